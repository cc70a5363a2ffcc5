#!/usr/bin/env bash
# Build a minimal Debian root filesystem with debootstrap and pack it as a tar
# that `docker import` accepts. This is the only way to get a base image here:
# the engine can pull nothing (no container registry is reachable), but the
# Debian mirror is.
#
# Usage: build-rootfs.sh OUT_TAR SUITE MIRROR INCLUDE
#   OUT_TAR  where to write the tarball (written atomically: OUT_TAR.tmp, then mv)
#   SUITE    e.g. bookworm
#   MIRROR   e.g. http://deb.debian.org/debian (plain http: needs no CA bundle)
#   INCLUDE  comma-separated extra packages, e.g. python3,ca-certificates
set -euo pipefail

out="$1" suite="$2" mirror="$3" include="$4"

ensure_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return 0
  echo "build-rootfs: installing debootstrap from Debian" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}

main() {
  ensure_debootstrap
  mkdir -p "$(dirname "$out")"
  # Work next to the output so the final mv is a rename on one filesystem.
  # (Global, not local: the EXIT trap runs after main has returned.)
  rootfs="$(mktemp -d "$(dirname "$out")/rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs" "$out.tmp"' EXIT

  debootstrap --variant=minbase --include="$include" \
    "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
      echo "build-rootfs: debootstrap failed; last lines of $rootfs.log:" >&2
      tail -n 20 "$rootfs.log" >&2
      exit 1
    }
  rm -f "$rootfs.log"

  # Downloaded .debs and package lists are dead weight in the image; every
  # Dockerfile runs `apt-get update` itself.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  # Let apt in `docker build` drop its caches by itself (as the official
  # debian images do) and skip documentation.
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF

  tar --numeric-owner -C "$rootfs" -cf "$out.tmp" .
  mv "$out.tmp" "$out"
}

main
