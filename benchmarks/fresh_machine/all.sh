#!/usr/bin/env bash
# The whole fresh-machine check at one commit (default: HEAD): README command 1 and 2
# (CI=true) in fresh clones in the container and, for comparison, on the host; then
# .ci/run and both commands in sequence in one clone in the container.
# Results: /tmp/fresh/*/result.txt (commit, image, exit status, wall time) and logs.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
export COMMIT="${COMMIT:-$(git -C "$repo" rev-parse HEAD)}"
C1='python3 -m venv .venv && .venv/bin/pip install -q tox==4.67.15 && .venv/bin/tox -e run'
C2='python3 -m venv .venv && .venv/bin/pip install -q tox==4.67.15 && .venv/bin/tox -e tests'
host() {  # host NAME CI(yes|no) CMD: the same on the host (whatever python3 is first on PATH)
    local d=/tmp/fresh/host-$1; rm -rf "$d"; mkdir -p "$d"
    git clone -q "$repo" "$d/aiii-interop"; git -C "$d/aiii-interop" checkout -q "$COMMIT"
    local start end rc; start=$(date +%s.%N)
    if [ "$2" = yes ]; then
        (cd "$d/aiii-interop" && CI=true bash -c "$3") >"$d/stdout.log" 2>"$d/stderr.log"; rc=$?
    else
        (cd "$d/aiii-interop" && bash -c "$3") >"$d/stdout.log" 2>"$d/stderr.log"; rc=$?
    fi
    end=$(date +%s.%N)
    printf 'commit=%s image=host rc=%s wall=%.1fs\n' "${COMMIT:0:7}" "$rc" "$(echo "$end - $start" | bc)" | tee "$d/result.txt"
}
for step in ${STEPS:-c1 host-c1 c2 host-c2 ci seq}; do
    case $step in
        c1) "$here/run_fresh.sh" c1 "$C1" ;;
        host-c1) host c1 no "$C1" ;;
        c2) DOCKER_ARGS="-e CI=true" "$here/run_fresh.sh" c2 "$C2" ;;
        host-c2) host c2 yes "$C2" ;;
        ci) "$here/run_fresh.sh" ci 'bash .ci/run' ;;
        seq) DOCKER_ARGS="-e CI=true" "$here/run_fresh.sh" seq "($C1); echo cmd1-exit=\$?; $C2" ;;
    esac
done
