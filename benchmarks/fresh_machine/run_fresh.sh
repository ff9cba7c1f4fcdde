#!/usr/bin/env bash
# Usage: run_fresh.sh NAME 'shell command'   (run from anywhere; needs aiii-fresh:bookworm)
# Clones the committed HEAD of the repo into /tmp/fresh/NAME/aiii-interop, puts a copy of
# ../shared beside it, and runs the command at the clone's root inside a throw-away
# container (path /home/u/src/aiii-interop, so nothing can lean on /work). Logs and the
# wall time land in /tmp/fresh/NAME/. IMAGE=... picks another image, COMMIT=... another commit, PATCH=file a diff to apply, DOCKER_ARGS=... adds
# docker run options (e.g. "-e CI=true").
set -euo pipefail
name="$1"; cmd="$2"
repo="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
shared="${SHARED:-$repo/../shared}"
base="/tmp/fresh/$name"
rm -rf "$base"; mkdir -p "$base"
git clone -q "$repo" "$base/aiii-interop"
[ -n "${COMMIT:-}" ] && git -C "$base/aiii-interop" checkout -q "$COMMIT"
[ -n "${PATCH:-}" ] && git -C "$base/aiii-interop" apply "$PATCH"   # a fix to try, uncommitted
[ -d "$shared" ] && cp -a "$shared" "$base/shared"
start=$(date +%s.%N)
set +e
docker run --rm ${DOCKER_ARGS:-} -v "$base:/home/u/src" -w /home/u/src/aiii-interop \
    "${IMAGE:-aiii-fresh:bookworm}" bash -c "$cmd" >"$base/stdout.log" 2>"$base/stderr.log"
rc=$?
set -e
end=$(date +%s.%N)
printf 'commit=%s image=%s rc=%s wall=%.1fs\n' "$(git -C "$base/aiii-interop" rev-parse --short HEAD)" "${IMAGE:-aiii-fresh:bookworm}" "$rc" "$(echo "$end - $start" | bc)" | tee "$base/result.txt"
