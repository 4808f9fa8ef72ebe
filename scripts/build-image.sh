#!/usr/bin/env bash
# Builds the container image from docker/Dockerfile without a Docker engine: the shipped runtime
# stage with the release binary CI built (`--target prebuilt`), and unpacks it for a run:
#   - a Debian bookworm base by debootstrap (minbase), from the archive apt uses here, made slim the
#     way Debian's -slim images are (no downloaded packages, package lists, docs, man pages or
#     locales; dpkg told to leave them out of later installs too), imported into a private podman
#     store as debian:bookworm-slim (nothing is pulled from a registry);
#   - podman build --isolation chroot, in Docker's format (OCI images drop HEALTHCHECK);
#   - the image's filesystem exported to OUT/rootfs and its config to OUT/image.json.
# Prints OUT. Usage: scripts/build-image.sh PATH/TO/tollgate [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: build-image.sh PATH/TO/tollgate [OUT]}
out=${2:-$(mktemp -d /tmp/tollgate-image.XXXXXX)}
scripts/lib/apt-install.sh debootstrap podman binutils >&2
mkdir -p "$out"
podman=(podman --root "$out/store" --runroot "$out/run" --storage-driver vfs)

started=$(date +%s)
if ! "${podman[@]}" image exists localhost/debian:bookworm-slim; then
  debootstrap --variant=minbase bookworm "$out/base" "$(scripts/lib/debian-mirror.sh)" >"$out/debootstrap.log" 2>&1 \
    || { tail -20 "$out/debootstrap.log" >&2; exit 1; }
  base="$out/base"
  rm -rf "$base"/var/cache/apt/archives/*.deb "$base"/var/lib/apt/lists/* "$base"/usr/share/man/* "$base"/usr/share/info/* \
    "$base"/usr/share/locale/* "$base"/usr/share/lintian/*
  find "$base/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' 'path-exclude /usr/share/man/*' \
    'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' 'path-exclude /usr/share/lintian/*' \
    >"$base/etc/dpkg/dpkg.cfg.d/slim"
  # As in Debian's images: apt keeps no binary caches or downloaded packages in a layer.
  printf '%s\n' 'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' \
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };' \
    >"$base/etc/apt/apt.conf.d/docker-clean"
  tar -C "$base" -c . | "${podman[@]}" import --quiet - localhost/debian:bookworm-slim >/dev/null
  rm -rf "$out/base"
fi
echo "build-image: bookworm base in $(( $(date +%s) - started )) s" >&2

mkdir -p "$out/context/docker"
cp docker/config.image.yaml "$out/context/docker/"
strip -o "$out/context/tollgate" "$bin"
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
"${podman[@]}" build --isolation chroot --pull=never --target prebuilt \
  --build-arg TOLLGATE_BINARY=tollgate --build-arg TOLLGATE_REVISION="$revision" \
  --format docker -t localhost/tollgate:ci -f docker/Dockerfile "$out/context" >"$out/build.log" 2>&1 \
  || { tail -30 "$out/build.log" >&2; exit 1; }
rm -rf "$out/context"

"${podman[@]}" image inspect localhost/tollgate:ci >"$out/image.json"
container=$("${podman[@]}" create localhost/tollgate:ci)
mkdir -p "$out/rootfs"
"${podman[@]}" export "$container" | tar -x -C "$out/rootfs"
"${podman[@]}" rm "$container" >/dev/null 2>&1
size=$("${podman[@]}" image inspect --format '{{.Size}}' localhost/tollgate:ci)
echo "build-image: localhost/tollgate:ci, $(( size / 1000000 )) MB ($size bytes), built in $(( $(date +%s) - started )) s" >&2
echo "$out"
