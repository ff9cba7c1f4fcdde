#!/usr/bin/env bash
# The whole fresh-machine check at one commit: README command 1 and 2 (CI=true) in fresh
# clones, .ci/run, both commands in sequence in one clone, and the same on the host for
# comparison. Results: /tmp/fresh/*/result.txt
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
export COMMIT="${COMMIT:-$(git -C "$repo" rev-parse HEAD)}"
C1='python3 -m venv .venv && .venv/bin/pip install -q tox==4.67.15 && .venv/bin/tox -e run'
C2='python3 -m venv .venv && .venv/bin/pip install -q tox==4.67.15 && .venv/bin/tox -e tests'
"$here/run_fresh.sh" c1 "$C1"
DOCKER_ARGS="-e CI=true" "$here/run_fresh.sh" c2 "$C2"
"$here/run_fresh.sh" ci 'bash .ci/run'
DOCKER_ARGS="-e CI=true" "$here/run_fresh.sh" seq "($C1); echo cmd1-exit=\$?; $C2"
# the host, for comparison (whatever python3 is first on PATH here)
for n in c1 c2; do
    d=/tmp/fresh/host-$n; rm -rf "$d"; mkdir -p "$d"
    git clone -q "$repo" "$d/aiii-interop"; git -C "$d/aiii-interop" checkout -q "$COMMIT"
    cmd="$C1"; [ $n = c2 ] && cmd="$C2"
    start=$(date +%s.%N)
    ci=""; [ $n = c2 ] && ci=true
    (cd "$d/aiii-interop" && env ${ci:+CI=true} bash -c "$cmd") >"$d/stdout.log" 2>"$d/stderr.log"; rc=$?
    end=$(date +%s.%N)
    printf 'commit=%s image=host rc=%s wall=%.1fs\n' "${COMMIT:0:7}" "$rc" "$(echo "$end - $start" | bc)" | tee "$d/result.txt"
done
