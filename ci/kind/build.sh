#!/usr/bin/env bash
# Build, from the Go module proxy and Debian only, everything that
# `kind create cluster --image <node image>` needs on a machine with no
# container registry. Idempotent: every artifact is keyed by its pinned
# version (ci/kind/versions.env) plus a hash of the inputs that shape it, and a
# stage whose key is unchanged is reused, not rebuilt.
#
#   ci/kind/build.sh                 # all stages, in order
#   ci/kind/build.sh tools kubernetes  # only these stages
#   ci/kind/build.sh --print-node-image  # the node image tag (no build)
#   ci/kind/build.sh --print-env         # KIND=, KUBECTL=, NODE_IMAGE=, ...
#
# Stages: tools, kubernetes, rootfs, images, node, certmanager (stand-in
# cert-manager images; not part of the node image). Each prints
#   [kind] stage <name>: <seconds>s (built|reused)
# Cache: ${DEVENV_CI_CACHE:-/var/cache/finops-devenv-ci}/kind (see README.md).
set -euo pipefail
# Stages run in $(...): without this, a failing command there would not stop them.
shopt -s inherit_errexit

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"

CACHE="${DEVENV_CI_CACHE:-/var/cache/finops-devenv-ci}/kind"
BIN="$CACHE/bin"
export PATH="/usr/local/go/bin:$BIN:$PATH"
# A module and build cache of our own, so the cache directory is the whole
# story (and survives `go clean -cache` elsewhere).
export GOMODCACHE="$CACHE/go/mod"
export GOCACHE="$CACHE/go/build"
export GOTOOLCHAIN=local
export GOFLAGS=-mod=mod
export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
# sum.golang.org is not reachable here; the proxy's zips are what we trust.
export GOSUMDB=off

# Docker: Debian's client speaks BuildKit, but plain `docker build` with the
# legacy builder is enough here (no RUN --mount used).
DOCKER="${DOCKER:-docker}"
KEY_LABEL="finops-ci.key"

log() { printf '[kind] %s\n' "$*" >&2; }
die() { printf '[kind] error: %s\n' "$*" >&2; exit 1; }

# sha256 of stdin, first 12 hex digits.
hash12() { sha256sum | cut -c1-12; }

# The text of a shell function: part of a stage's key, so editing how an
# artifact is built rebuilds it.
fn_text() { declare -f "$@"; }

# run_stage NAME FUNCTION: time FUNCTION, which echoes "built" or "reused".
run_stage() {
  local name="$1" fn="$2" start result
  start=$(date +%s)
  result=$("$fn")
  printf '[kind] stage %s: %ss (%s)\n' "$name" "$(( $(date +%s) - start ))" "$result"
}

image_key() { $DOCKER image inspect -f "{{index .Config.Labels \"$KEY_LABEL\"}}" "$1" 2>/dev/null || true; }

go_mod_dir() { go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'; }

# ---------------------------------------------------------------- tools ---
build_kind() {
  local key="kind-$KIND_VERSION" stamp="$BIN/.kind.key"
  if [[ -x "$BIN/kind" && "$(cat "$stamp" 2>/dev/null)" == "$key" ]]; then return 1; fi
  GOBIN="$BIN" CGO_ENABLED=0 go install "sigs.k8s.io/kind@$KIND_VERSION" >&2 \
    || die "go install sigs.k8s.io/kind@$KIND_VERSION failed"
  echo "$key" > "$stamp"
}

# tilt's go.mod has replace directives, so `go install` refuses it: build it
# inside a wrapper module that repeats them.
build_tilt() {
  local key stamp="$BIN/.tilt.key"
  key="tilt-$TILT_VERSION-$(fn_text build_tilt | hash12)"
  if [[ -x "$BIN/tilt" && "$(cat "$stamp" 2>/dev/null)" == "$key" ]]; then return 1; fi
  local src="$CACHE/src/tilt-$TILT_VERSION" gomod
  gomod=$(go mod download -json "github.com/tilt-dev/tilt@$TILT_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  [[ -n "$gomod" ]] || { log "github.com/tilt-dev/tilt@$TILT_VERSION: not served by the module proxy"; return 2; }
  rm -rf "$src"; mkdir -p "$src"
  {
    echo "module finops-ci/tilt-wrapper"
    echo
    sed -n 's/^go \(.*\)$/go \1/p' "$gomod"
    echo
    echo "require github.com/tilt-dev/tilt $TILT_VERSION"
    echo
    sed -n '/^replace /p; /^replace (/,/^)/p' "$gomod"
  } > "$src/go.mod"
  (cd "$src" && go get "github.com/tilt-dev/tilt/cmd/tilt@$TILT_VERSION" \
    && CGO_ENABLED=0 go build -o "$BIN/tilt" \
      -ldflags "-X main.version=${TILT_VERSION#v}" github.com/tilt-dev/tilt/cmd/tilt) >&2 \
    || die "building tilt $TILT_VERSION failed"
  echo "$key" > "$stamp"
}

stage_tools() {
  local built=reused
  mkdir -p "$BIN"
  if build_kind; then built=built; fi
  # tilt is optional here: the proxy reachable on the CI machines does not
  # serve github.com/tilt-dev/tilt (403), so its failure is reported, not fatal.
  if [[ "${SKIP_TILT:-0}" != 1 ]]; then
    if (build_tilt); then built=built; elif [[ ! -x "$BIN/tilt" || "$(cat "$BIN/.tilt.key" 2>/dev/null)" != tilt-$TILT_VERSION-* ]]; then
      log "tilt $TILT_VERSION: not built (module not obtainable); set SKIP_TILT=1 to skip trying"
    fi
  fi
  echo "$built"
}

# ----------------------------------------------------------- kubernetes ---
K8S_CMDS=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)

k8s_key() { echo "$KUBERNETES_VERSION-$( (fn_text k8s_wrapper_gomod k8s_ldflags; go env GOVERSION) | hash12)"; }
k8s_dir() { echo "$CACHE/kubernetes/$(k8s_key)"; }

# The tag's replace block points the staging modules at ./staging/src/...;
# outside the kubernetes repo they must come from the proxy at the matching
# v0.x version.
k8s_wrapper_gomod() {
  local gomod="$1"
  echo "module finops-ci/kubernetes-wrapper"
  echo
  sed -n 's/^go \(.*\)$/go \1/p' "$gomod"
  echo
  echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
  echo
  echo "replace ("
  sed -n '/^replace (/,/^)/p' "$gomod" \
    | sed -n "s#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 $KUBERNETES_STAGING_VERSION#p"
  echo ")"
}

k8s_ldflags() {
  local v="$KUBERNETES_VERSION" major minor flags="-s -w" pkg
  major=$(echo "${v#v}" | cut -d. -f1); minor=$(echo "${v#v}" | cut -d. -f2)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    # The module proxy does not say which commit a tag is; kubeadm and the
    # components only read gitVersion.
    flags+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

stage_kubernetes() {
  local dir; dir=$(k8s_dir)
  local c missing=0
  for c in "${K8S_CMDS[@]}"; do [[ -x "$dir/bin/$c" ]] || missing=1; done
  if [[ $missing == 0 ]]; then echo reused; return; fi
  local gomod src="$dir/src"
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  rm -rf "$src"; mkdir -p "$src" "$dir/bin"
  k8s_wrapper_gomod "$gomod" > "$src/go.mod"
  local pkgs=() start
  for c in "${K8S_CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  start=$(date +%s)
  (cd "$src" && go get "${pkgs[@]/%/@$KUBERNETES_VERSION}" >&2 \
    && CGO_ENABLED=0 go build -p "${GO_BUILD_P:-2}" -o "$dir/bin/" -ldflags "$(k8s_ldflags)" "${pkgs[@]}" >&2) \
    || die "building kubernetes $KUBERNETES_VERSION failed"
  log "kubernetes: go build of ${#K8S_CMDS[@]} commands took $(( $(date +%s) - start ))s"
  "$dir/bin/kubeadm" version -o short >&2
  echo built
}

# --------------------------------------------------------------- images ---
# go_bin NAME VERSION BUILD_FN: run BUILD_FN OUTDIR once per (NAME, VERSION,
# BUILD_FN text); echo the directory holding the binaries.
go_bin() {
  local name="$1" version="$2" fn="$3" dir
  dir="$CACHE/gobin/$name-$version-$( (fn_text "$fn"; go env GOVERSION) | hash12)"
  if [[ ! -f "$dir/.done" ]]; then
    log "building $name $version"
    rm -rf "$dir"; mkdir -p "$dir"
    "$fn" "$dir" >&2 || die "building $name $version failed"
    touch "$dir/.done"
  fi
  echo "$dir"
}

gobuild_etcd() {
  # etcd's server module replaces its sibling modules with local paths.
  local src="$1/src" v="$ETCD_VERSION"
  mkdir -p "$src"
  cat > "$src/go.mod" <<EOM
module finops-ci/etcd-wrapper

go 1.24

require go.etcd.io/etcd/server/v3 $v

replace (
	go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $v
	go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $v
	go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $v
	go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $v
)
EOM
  (cd "$src" && go get "go.etcd.io/etcd/server/v3@$v" \
    && CGO_ENABLED=0 go build -o "$1/etcd" -ldflags "-s -w" go.etcd.io/etcd/server/v3)
}
gobuild_coredns() {
  GOBIN="$1" CGO_ENABLED=0 go install -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
}
gobuild_kube_router() {
  GOBIN="$1" CGO_ENABLED=0 go install \
    -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
}
gobuild_vault_k8s() {
  # Not `go install m@v`: that also reads the module's version list for
  # deprecation notices, which the proxy here refuses for this module.
  wrapper_build "$1" github.com/hashicorp/vault-k8s "$VAULT_K8S_VERSION" "" \
    "-s -w -X github.com/hashicorp/vault-k8s/version.Version=${VAULT_K8S_VERSION#v}" \
    github.com/hashicorp/vault-k8s
}
gobuild_registry() {
  GOBIN="$1" CGO_ENABLED=0 go install -ldflags "-s -w" \
    "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
}
gobuild_crictl() {
  GOBIN="$1" CGO_ENABLED=0 go install -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRI_TOOLS_VERSION" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$CRI_TOOLS_VERSION"
}
gobuild_cni() {
  local p
  for p in ipam/host-local main/loopback main/ptp main/bridge meta/portmap; do
    GOBIN="$1" CGO_ENABLED=0 go install -ldflags "-s -w" \
      "github.com/containernetworking/plugins/plugins/$p@$CNI_PLUGINS_VERSION" || return 1
  done
}
# wrapper_build OUT MODULE VERSION TAGS LDFLAGS PKG...: for modules that
# `go install pkg@version` refuses (replace or exclude directives): a wrapper
# module requiring MODULE that repeats those directives (local-path replaces
# dropped), then one `go build` of the packages into OUT.
wrapper_build() {
  local out="$1" mod="$2" ver="$3" tags="$4" ldflags="$5"; shift 5
  local gomod src="$out/src"
  gomod=$(go mod download -json "$mod@$ver" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  [[ -n "$gomod" ]] || { log "$mod@$ver is not on the module proxy"; return 1; }
  mkdir -p "$src"
  {
    echo "module finops-ci/wrapper"; echo
    grep -m1 '^go ' "$gomod"; echo
    echo "require $mod $ver"; echo
    awk '/^(exclude|replace) \(/{p=1} p{print} /^\)/{p=0} /^(exclude|replace) [^(]/{print}' "$gomod" \
      | grep -v '=> \.'
  } > "$src/go.mod"
  (cd "$src" && go get "${@/%/@$ver}" \
    && CGO_ENABLED=0 go build -tags "$tags" -ldflags "$ldflags" -o "$out/" "$@")
}

gobuild_containerd() {
  local m=github.com/containerd/containerd/v2
  wrapper_build "$1" "$m" "$CONTAINERD_VERSION" "no_aufs no_zfs no_btrfs no_devmapper" \
    "-s -w -X $m/version.Version=$CONTAINERD_VERSION -X $m/version.Package=$m" \
    "$m/cmd/containerd" "$m/cmd/ctr" "$m/cmd/containerd-shim-runc-v2"
}
gobuild_pause() {
  # pause.c ships in the kubernetes module zip; kubeadm's pause is this file.
  local d
  d=$(go_mod_dir "k8s.io/kubernetes@$KUBERNETES_VERSION")
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-finops-ci" -o "$1/pause" "$d/build/pause/linux/pause.c"
}

# rootfs_image NAME PACKAGES...: debootstrap (minbase) once per package list,
# cache the tarball, `docker import` it; echo the image tag.
rootfs_key() { local IFS=,; echo "$DEBIAN_SUITE $DEBIAN_MIRROR $*" | hash12; }
rootfs_tag() { local name="$1"; shift; echo "finops-ci/kind-$name:$DEBIAN_SUITE-$(rootfs_key "$@")"; }

rootfs_image() {
  local name="$1"; shift
  local pkgs; pkgs=$(IFS=,; echo "$*")
  local key; key=$(rootfs_key "$@")
  local tar="$CACHE/rootfs/$name-$DEBIAN_SUITE-$key.tar" tag; tag=$(rootfs_tag "$name" "$@")
  if ! $DOCKER image inspect "$tag" >/dev/null 2>&1; then
    if [[ ! -f "$tar" ]]; then
      log "debootstrap $name ($pkgs)"
      local root="$CACHE/rootfs/$name.tmp"
      rm -rf "$root"; mkdir -p "$root"
      debootstrap --variant=minbase --include="$pkgs" "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >&2 \
        || die "debootstrap $name failed"
      rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
      tar -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
      rm -rf "$root"
    fi
    $DOCKER import "$tar" "$tag" >/dev/null
  fi
  echo "$tag"
}

NET_BASE_PACKAGES=(iptables ipset conntrack iproute2 kmod procps python3 ca-certificates)

# build_image TAG CONTEXT_DIR: docker build unless TAG already carries the
# context's hash. Extra tags follow.
build_image() {
  local tag="$1" ctx="$2"; shift 2
  local key; key=$(cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum | hash12)
  if [[ "$(image_key "$tag")" != "$key" ]]; then
    $DOCKER build -q --label "$KEY_LABEL=$key" -t "$tag" "$ctx" >&2 || die "docker build $tag failed"
    BUILT=built
  fi
  local t
  for t in "$@"; do $DOCKER tag "$tag" "$t"; done
}

# new_ctx NAME: an empty build context directory.
new_ctx() { local d="$CACHE/images/ctx/$1"; rm -rf "$d"; mkdir -p "$d"; echo "$d"; }

scratch_ctx() {  # scratch_ctx NAME BINARY...: binaries in /usr/local/bin, a /tmp
  local ctx; ctx=$(new_ctx "$1"); shift
  mkdir -p "$ctx/tmp" "$ctx/bin"
  cp "$@" "$ctx/bin/"
  echo "$ctx"
}

# The image list, as kubeadm prints it for KUBERNETES_VERSION.
k8s_images() {
  local r=registry.k8s.io v="$KUBERNETES_VERSION"
  echo "$r/kube-apiserver:$v $r/kube-controller-manager:$v $r/kube-scheduler:$v $r/kube-proxy:$v"
  echo "$r/coredns/coredns:$COREDNS_VERSION $r/pause:$PAUSE_VERSION $r/etcd:$ETCD_IMAGE_TAG"
}
# kind's containerd config.toml pins this sandbox image.
KIND_SANDBOX_IMAGE=registry.k8s.io/pause:3.10


net_base_dockerfile() {
  # iptables-wrapper picks legacy or nft like the node did (the pod shares
  # the node's network namespace), as upstream's distroless-iptables does.
  cat <<'EOM'
COPY iptables-wrapper /usr/sbin/iptables-wrapper
RUN for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \
      ln -sf /usr/sbin/iptables-wrapper /usr/sbin/$c; done
EOM
}

stage_images() {
  BUILT=reused
  local k8sbin; k8sbin="$(k8s_dir)/bin"
  [[ -x "$k8sbin/kube-apiserver" ]] || die "run the kubernetes stage first"
  local etcd coredns kr vk rg pause
  etcd=$(go_bin etcd "$ETCD_VERSION" gobuild_etcd)
  coredns=$(go_bin coredns "$COREDNS_VERSION" gobuild_coredns)
  kr=$(go_bin kube-router "$KUBE_ROUTER_VERSION" gobuild_kube_router)
  vk=$(go_bin vault-k8s "$VAULT_K8S_VERSION" gobuild_vault_k8s)
  rg=$(go_bin registry "$REGISTRY_VERSION" gobuild_registry)
  pause=$(go_bin pause "$PAUSE_VERSION-$KUBERNETES_VERSION" gobuild_pause)

  local r=registry.k8s.io v="$KUBERNETES_VERSION" c ctx
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    ctx=$(scratch_ctx "$c" "$k8sbin/$c")
    printf 'FROM scratch\nCOPY bin/ /usr/local/bin/\nCOPY tmp/ /tmp/\nENV PATH=/usr/local/bin:/usr/bin:/bin\nENTRYPOINT ["/usr/local/bin/%s"]\n' "$c" > "$ctx/Dockerfile"
    build_image "$r/$c:$v" "$ctx"
  done
  ctx=$(scratch_ctx etcd "$etcd/etcd")
  printf 'FROM scratch\nCOPY bin/ /usr/local/bin/\nCOPY tmp/ /tmp/\nENV PATH=/usr/local/bin:/usr/bin:/bin\nENTRYPOINT ["/usr/local/bin/etcd"]\n' > "$ctx/Dockerfile"
  build_image "$r/etcd:$ETCD_IMAGE_TAG" "$ctx"
  ctx=$(scratch_ctx coredns "$coredns/coredns")
  printf 'FROM scratch\nCOPY bin/coredns /coredns\nCOPY tmp/ /tmp/\nEXPOSE 53 53/udp\nENTRYPOINT ["/coredns"]\n' > "$ctx/Dockerfile"
  build_image "$r/coredns/coredns:$COREDNS_VERSION" "$ctx"
  ctx=$(scratch_ctx pause "$pause/pause")
  printf 'FROM scratch\nCOPY bin/pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' > "$ctx/Dockerfile"
  # The same pause.c answers for kind's sandbox_image (3.10) and kubeadm's.
  build_image "$r/pause:$PAUSE_VERSION" "$ctx" "$KIND_SANDBOX_IMAGE"
  ctx=$(scratch_ctx vault-k8s "$vk/vault-k8s")
  printf 'FROM scratch\nCOPY bin/vault-k8s /bin/vault-k8s\nCOPY bin/vault-k8s /vault-k8s\nCOPY tmp/ /tmp/\nUSER 100\nENTRYPOINT ["/bin/vault-k8s"]\n' > "$ctx/Dockerfile"
  build_image "finops-ci/vault-k8s:${VAULT_K8S_VERSION#v}" "$ctx"
  # The local registry devenv up runs beside the cluster (not part of the node).
  ctx=$(scratch_ctx registry "$rg/registry")
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\nhttp:\n  addr: :5000\n' > "$ctx/config.yml"
  printf 'FROM scratch\nCOPY bin/registry /bin/registry\nCOPY config.yml /etc/distribution/config.yml\nCOPY tmp/ /tmp/\nEXPOSE 5000\nENTRYPOINT ["/bin/registry"]\nCMD ["serve", "/etc/distribution/config.yml"]\n' > "$ctx/Dockerfile"
  build_image "finops-ci/registry:${REGISTRY_VERSION#v}" "$ctx"

  # Images that need iptables & co: one Debian base.
  local netbase; netbase=$(rootfs_image net-base "${NET_BASE_PACKAGES[@]}")
  ctx=$(new_ctx kube-proxy); cp "$k8sbin/kube-proxy" "$ctx/"; cp "$HERE/images/iptables-wrapper" "$ctx/"
  { echo "FROM $netbase"; net_base_dockerfile; echo 'COPY kube-proxy /usr/local/bin/kube-proxy'; echo 'ENTRYPOINT ["/usr/local/bin/kube-proxy"]'; } > "$ctx/Dockerfile"
  build_image "$r/kube-proxy:$v" "$ctx"
  ctx=$(new_ctx kube-router); cp "$kr/kube-router" "$ctx/"; cp "$HERE/images/iptables-wrapper" "$ctx/"
  { echo "FROM $netbase"; net_base_dockerfile; echo 'COPY kube-router /usr/local/bin/kube-router'; echo 'ENTRYPOINT ["/usr/local/bin/kube-router"]'; } > "$ctx/Dockerfile"
  build_image "finops-ci/kube-router:$KUBE_ROUTER_VERSION" "$ctx"
  ctx=$(new_ctx podnet); cp "$HERE/images/podnet.py" "$HERE/images/iptables-wrapper" "$ctx/"
  { echo "FROM $netbase"; net_base_dockerfile; echo 'COPY podnet.py /usr/local/bin/podnet.py'; echo 'ENTRYPOINT ["python3", "-u", "/usr/local/bin/podnet.py"]'; } > "$ctx/Dockerfile"
  build_image "$(podnet_image)" "$ctx"

  # What the node image imports.
  mkdir -p "$CACHE/images"
  { k8s_images | tr ' ' '\n'; echo "$KIND_SANDBOX_IMAGE"; podnet_image
    echo "finops-ci/kube-router:$KUBE_ROUTER_VERSION"
    echo "finops-ci/vault-k8s:${VAULT_K8S_VERSION#v}"; } > "$CACHE/images/node-images.txt"
  echo "$BUILT"
}

# The pod-network stand-in for kindnetd (whose source is not on the proxy).
podnet_image() { echo "finops-ci/podnet:$( (cat "$HERE/images/podnet.py" "$HERE/images/iptables-wrapper") | hash12)"; }

# ----------------------------------------------------------------- node ---
# kind's images/base/Dockerfile package list (minus nfs-common, open-iscsi:
# no NFS/iSCSI volumes here), plus Debian's runc (kind builds runc; Debian's
# 1.1.5 serves containerd 2.1 fine).
NODE_BASE_PACKAGES=(systemd conntrack iptables nftables iproute2 ethtool util-linux mount kmod
  libseccomp2 pigz fuse-overlayfs bash ca-certificates curl jq procps runc)

NOT_IN_NODE_MARKER='# ---- not in the node image'

# Keyed by everything that goes into the node (pins, the functions that build
# its parts, the files copied in, the IDs of the images it imports, the cache
# path that the binaries embed), not by build.sh as a whole: editing an
# unrelated stage or a comment elsewhere keeps the node (and the cluster).
node_image_tag() {
  local h list="$CACHE/images/node-images.txt"
  h=$( (echo "$CACHE"
        if [[ -f "$list" ]]; then xargs $DOCKER image inspect -f '{{.Id}}' < "$list" 2>/dev/null || true; fi
        # versions.env up to NOT_IN_NODE_MARKER: pins after it (cert-manager)
        # do not go into the node, so changing them keeps the node's tag.
        sed "/^$NOT_IN_NODE_MARKER/,\$d" "$HERE/versions.env"
        cat "$HERE/images/"* "$HERE/manifests/default-cni.yaml"
        declare -p NODE_BASE_PACKAGES NET_BASE_PACKAGES
        fn_text stage_node node_base_image rootfs_image wrapper_build gobuild_containerd \
          gobuild_crictl gobuild_cni stage_images scratch_ctx net_base_dockerfile \
          gobuild_etcd gobuild_coredns gobuild_kube_router gobuild_vault_k8s gobuild_pause \
          k8s_wrapper_gomod k8s_ldflags
        go env GOVERSION) | hash12)
  echo "finops-ci/kind-node:$KUBERNETES_VERSION-$h"
}

# The base image: what kind's images/base/Dockerfile makes, assembled from
# a debootstrap rootfs, kind's own files (used as they are) and binaries
# built from the module proxy.
node_base_image() {
  local rootfs containerd crictl cni kind_dir ctx
  rootfs=$(rootfs_image node-rootfs "${NODE_BASE_PACKAGES[@]}")
  containerd=$(go_bin containerd "$CONTAINERD_VERSION" gobuild_containerd)
  crictl=$(go_bin crictl "$CRI_TOOLS_VERSION" gobuild_crictl)
  cni=$(go_bin cni-plugins "$CNI_PLUGINS_VERSION" gobuild_cni)
  kind_dir=$(go_mod_dir "sigs.k8s.io/kind@$KIND_VERSION")
  ctx=$(new_ctx node-base)
  cp -r "$kind_dir/images/base/files" "$ctx/files"
  chmod -R u+w "$ctx/files"
  mkdir -p "$ctx/bin" "$ctx/cni"
  cp "$containerd"/{containerd,ctr,containerd-shim-runc-v2} "$crictl/crictl" "$ctx/bin/"
  cp "$cni"/{host-local,loopback,ptp,portmap,bridge} "$ctx/cni/"
  cat > "$ctx/Dockerfile" <<EOM
FROM $rootfs
COPY files/usr/local/bin/ /usr/local/bin/
COPY files/kind/ /kind/
COPY files/LICENSES/ /LICENSES/
COPY files/etc/ /etc/
COPY bin/ /usr/local/bin/
COPY cni/ /opt/cni/bin/
RUN chmod 755 /kind/bin /kind/bin/* /usr/local/bin/* \\
    && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \\
    && rm -f /lib/systemd/system/multi-user.target.wants/* \\
    && rm -f /etc/systemd/system/*.wants/* \\
    && rm -f /lib/systemd/system/local-fs.target.wants/* \\
    && rm -f /lib/systemd/system/sockets.target.wants/*udev* \\
    && rm -f /lib/systemd/system/sockets.target.wants/*initctl* \\
    && rm -f /lib/systemd/system/basic.target.wants/* \\
    && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \\
    && ln -sf "\$(command -v systemd || echo /lib/systemd/systemd)" /sbin/init
RUN systemctl enable kubelet.service \\
    && systemctl enable containerd.service \\
    && systemctl enable undo-mount-hacks.service \\
    && systemctl mask systemd-binfmt.service \\
    && mkdir -p /etc/kubernetes/manifests
# The one change to kind's files: these machines lack CAP_SYS_RESOURCE, so
# runc cannot lower a container's oom_score_adj below containerd's (every
# sandbox fails with "can't get final child's PID from pipe: EOF"). Clamp it,
# as kind itself does for rootless nodes.
RUN sed -i 's/^\( *restrict_oom_score_adj = \)false/\1true/' /etc/containerd/config.toml \\
    && grep -q '^ *restrict_oom_score_adj = true' /etc/containerd/config.toml
RUN ctr oci spec \\
      | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \\
      | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json \\
    && containerd --version && runc --version && crictl --version
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
EOM
  local tag; tag="finops-ci/kind-node-base:$KUBERNETES_VERSION-$(cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum | hash12)"
  build_image "$tag" "$ctx"
  echo "$tag"
}

stage_node() {
  BUILT=reused
  local tag; tag=$(node_image_tag)
  if $DOCKER image inspect "$tag" >/dev/null 2>&1; then echo reused; return; fi
  local base k8sbin images cid
  base=$(node_base_image)
  k8sbin="$(k8s_dir)/bin"
  [[ -f "$CACHE/images/node-images.txt" ]] || die "run the images stage first"
  mapfile -t images < "$CACHE/images/node-images.txt"
  cid=$($DOCKER run -d --privileged --entrypoint=sleep "$base" infinity)
  # Removed when this stage's subshell exits, success or not.
  NODE_BUILD_CID="$cid"; trap cleanup EXIT
  local b
  for b in kubeadm kubelet kubectl; do $DOCKER cp "$k8sbin/$b" "$cid:/usr/bin/$b"; done
  $DOCKER exec "$cid" bash -c "chmod 755 /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl \
    && mkdir -p /kind/manifests && echo $KUBERNETES_VERSION > /kind/version"
  sed "s#PODNET_IMAGE#$(podnet_image)#" "$HERE/manifests/default-cni.yaml" \
    | $DOCKER exec -i "$cid" tee /kind/manifests/default-cni.yaml >/dev/null
  $DOCKER exec "$cid" bash -c 'nohup containerd >/tmp/containerd.log 2>&1 &'
  $DOCKER exec "$cid" bash -c 'for i in $(seq 1 30); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 1; done; cat /tmp/containerd.log; exit 1' >&2 \
    || die "containerd did not start in the build container"
  $DOCKER save "${images[@]}" | $DOCKER exec -i "$cid" ctr -n k8s.io images import \
      --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >&2 \
    || die "ctr images import failed"
  log "node image holds: $($DOCKER exec "$cid" ctr -n k8s.io images list -q | grep -v '^sha256:' | tr '\n' ' ')"
  # The container's PID 1 is sleep, which reaps nothing: a stopped containerd
  # stays a zombie, so wait for no live (non-Z) containerd.
  $DOCKER exec "$cid" bash -c 'pkill -x containerd; for i in $(seq 1 40); do ps -C containerd -o stat= | grep -qv Z || exit 0; sleep 0.5; done; exit 1' \
    || die "containerd did not stop in the build container"
  $DOCKER exec "$cid" rm -rf /tmp/containerd.log /run/containerd
  $DOCKER commit \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
    --change 'CMD []' \
    "$cid" "$tag" >/dev/null
  log "node image: $tag"
  # Older node images are ~1.4 GB each: drop those no container uses (rmi
  # refuses the others), and node bases other than this one.
  local old
  for old in $($DOCKER images --format '{{.Repository}}:{{.Tag}}' finops-ci/kind-node) \
             $($DOCKER images --format '{{.Repository}}:{{.Tag}}' finops-ci/kind-node-base); do
    [[ "$old" == "$tag" || "$old" == "$base" ]] || $DOCKER rmi "$old" >/dev/null 2>&1 || true
  done
  echo built
}

# --------------------------------------------------------------- rootfs ---
stage_rootfs() {
  local result=reused
  if ! $DOCKER image inspect "$(rootfs_tag net-base "${NET_BASE_PACKAGES[@]}")" >/dev/null 2>&1 \
     || ! $DOCKER image inspect "$(rootfs_tag node-rootfs "${NODE_BASE_PACKAGES[@]}")" >/dev/null 2>&1; then
    result=built
  fi
  rootfs_image net-base "${NET_BASE_PACKAGES[@]}" >/dev/null
  rootfs_image node-rootfs "${NODE_BASE_PACKAGES[@]}" >/dev/null
  echo "$result"
}

# ---------------------------------------------------------- certmanager ---
# Stand-in images of cert-manager's controller, webhook and cainjector. The
# proxy serves the main module github.com/cert-manager/cert-manager but not
# its cmd/* modules (untagged, `replace => ../../`), so the mains are our own
# (ci/kind/cert-manager/), built in a module whose path lies under
# github.com/cert-manager/cert-manager/ so they may import its internal/
# packages. Not in the node image: load them with `kind load` or a registry.
CM_SRC="$HERE/cert-manager"
CM_PROGRAMS=(controller webhook cainjector)

# Our Go sources (all files) and the program list: part of the binaries' key.
cm_src_hash() { (cd "$CM_SRC" && find . -type f -print0 | sort -z | xargs -0 sha256sum; echo "${CM_PROGRAMS[*]}") | hash12; }

cm_image() { echo "finops-ci/cert-manager-$1:$CERT_MANAGER_VERSION"; }

gobuild_certmanager() {
  local out="$1" m=github.com/cert-manager/cert-manager v="$CERT_MANAGER_VERSION"
  local src="$out/src" info gomod dir
  info=$(go mod download -json "$m@$v") || { log "$m@$v is not on the module proxy"; return 1; }
  gomod=$(sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p' <<< "$info")
  dir=$(sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<< "$info")
  mkdir -p "$src"
  cp -r "$CM_SRC"/. "$src/"
  # cert-manager's go line, its requirements (through `require`), and its
  # exclude/replace directives if it has any (local-path replaces dropped).
  {
    echo "module $m/finops-ci-standin"; echo
    grep -m1 '^go ' "$gomod"; echo
    echo "require $m $v"; echo
    awk '/^(exclude|replace) \(/{p=1} p{print} /^\)/{p=0} /^(exclude|replace) [^(]/{print}' "$gomod" \
      | grep -v '=> \.' || true
  } > "$src/go.mod"
  install -m 0644 "$dir/LICENSE" "$out/LICENSE"  # Apache-2.0: goes into the images
  # AppVersion: what the programs log as their version (upstream sets it the
  # same way; the commit is unknown from the proxy, so AppGitCommit stays empty).
  (cd "$src" && go get "$m@$v" \
    && CGO_ENABLED=0 go build -p "${GO_BUILD_P:-2}" -o "$out/" \
      -ldflags "-s -w -X $m/pkg/util.AppVersion=$v" "${CM_PROGRAMS[@]/#/./}")
}

stage_certmanager() {
  BUILT=reused
  local bin p ctx d
  bin=$(go_bin cert-manager "$CERT_MANAGER_VERSION-$(cm_src_hash)" gobuild_certmanager)
  # Only the current build is kept (each is ~150 MB of binaries).
  for d in "$CACHE"/gobin/cert-manager-*; do [[ "$d" == "$bin" ]] || rm -rf "$d"; done
  for p in "${CM_PROGRAMS[@]}"; do
    ctx=$(scratch_ctx "cert-manager-$p" "$bin/$p" "$bin/LICENSE")
    # Upstream's layout (/app/cmd/<p>/<p>, licence under /licenses); the
    # manifests give only args, as with upstream's images.
    printf 'FROM scratch\nCOPY bin/%s /app/cmd/%s/%s\nCOPY bin/LICENSE /licenses/LICENSE\nCOPY tmp/ /tmp/\nUSER 1000\nENTRYPOINT ["/app/cmd/%s/%s"]\n' \
      "$p" "$p" "$p" "$p" "$p" > "$ctx/Dockerfile"
    build_image "$(cm_image "$p")" "$ctx"
  done
  echo "$BUILT"
}

# --------------------------------------------------------------- main ---
NODE_BUILD_CID=
cleanup() { if [[ -n "$NODE_BUILD_CID" ]]; then $DOCKER rm -f -v "$NODE_BUILD_CID" >/dev/null 2>&1 || true; fi; }

main() {
  local stages=("$@")
  if [[ ${#stages[@]} == 0 ]]; then stages=(tools kubernetes rootfs images node certmanager); fi
  mkdir -p "$CACHE"
  local s
  for s in "${stages[@]}"; do
    case "$s" in
      tools|kubernetes|rootfs|images|node|certmanager) run_stage "$s" "stage_$s" ;;
      --print-node-image) node_image_tag; return ;;
      --print-env)  # for cluster.sh: where the built things are
        # PROBE_IMAGE: any image in the node with python3 (prove-policy.sh).
        printf 'KIND=%q\nKUBECTL=%q\nNODE_IMAGE=%q\nKUBE_ROUTER_IMAGE=%q\nPROBE_IMAGE=%q\nVAULT_K8S_IMAGE=%q\nREGISTRY_IMAGE=%q\n' \
          "$BIN/kind" "$(k8s_dir)/bin/kubectl" "$(node_image_tag)" \
          "finops-ci/kube-router:$KUBE_ROUTER_VERSION" "$(podnet_image)" \
          "finops-ci/vault-k8s:${VAULT_K8S_VERSION#v}" "finops-ci/registry:${REGISTRY_VERSION#v}"
        printf 'CERT_MANAGER_CONTROLLER_IMAGE=%q\nCERT_MANAGER_WEBHOOK_IMAGE=%q\nCERT_MANAGER_CAINJECTOR_IMAGE=%q\n' \
          "$(cm_image controller)" "$(cm_image webhook)" "$(cm_image cainjector)"
        return ;;
      *) die "unknown stage: $s (tools, kubernetes, rootfs, images, node, certmanager)" ;;
    esac
  done
}

# Sourcing (for debugging one function) defines everything and runs nothing.
# (`exit` on the same line: bash reads scripts as it runs them, so an edit to
# this file during a long build must not feed it the rest.)
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; exit $?; fi
