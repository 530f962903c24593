#!/usr/bin/env bash
# Builds a Debian 12 base image from the Debian mirror (debootstrap --variant=minbase: the
# packages of Priority required plus apt, which is what debian:12-slim holds) and imports it into
# the local Docker daemon. For builders that reach deb.debian.org but not Docker Hub:
#
#   sudo deploy/docker/local-base-image.sh                   # tags streamgen-local/debian:12-slim
#   docker build --build-arg DEBIAN_IMAGE=streamgen-local/debian:12-slim -t streamgen .
#
# Needs root, debootstrap and docker. MIRROR and TAG may be overridden from the environment.
set -euo pipefail
MIRROR=${MIRROR:-http://deb.debian.org/debian}
TAG=${TAG:-streamgen-local/debian:12-slim}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "$MIRROR"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
rm -f "$root"/etc/apt/sources.list
cat >"$root"/etc/apt/sources.list.d/debian.sources <<SOURCES
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
tar -C "$root" -c . | docker import -c 'CMD ["bash"]' - "$TAG"
echo "imported $TAG"
