#!/usr/bin/env bash
# Build aiii-fresh:bookworm: a minimal Debian 12 with only a stock Python, from Debian's
# mirror (no container registry needed). Run as root on a Debian host with Docker.
set -euo pipefail
MIRROR="${MIRROR:-http://deb.debian.org/debian}"   # the URIs: line of /etc/apt/sources.list.d/debian.sources
ROOTFS="${ROOTFS:-/tmp/rootfs}"
TAG="${TAG:-aiii-fresh:bookworm}"
apt-get update -qq
apt-get install -y -qq debootstrap
rm -rf "$ROOTFS"
debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,perl,git,ca-certificates \
    bookworm "$ROOTFS" "$MIRROR"
# This workplace's egress re-signs TLS: without its CA no container reaches PyPI
# (CERTIFICATE_VERIFY_FAILED). Every machine here (developers', CI's) trusts it already.
cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
chroot "$ROOTFS" update-ca-certificates
docker image rm -f "$TAG" >/dev/null 2>&1 || true
tar -C "$ROOTFS" -c . | docker import \
    -m "debootstrap minbase bookworm + python3 python3-venv python3-pip perl git ca-certificates + egress CA" \
    - "$TAG"
