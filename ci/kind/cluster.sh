#!/usr/bin/env bash
# The CI kind cluster, from the node image ci/kind/build.sh made.
#
#   ci/kind/cluster.sh up      # create, or reuse a healthy one; wait Ready;
#                              # install kube-router (NetworkPolicy enforcer)
#   ci/kind/cluster.sh status  # exit 0 if the node is Ready
#   ci/kind/cluster.sh down    # delete it
#
# Env: DEVENV_CLUSTER (default finops-dev), DEVENV_KIND_CONFIG (default
# ci/kind/kind-config.ci.yaml), DEVENV_CI_CACHE (as for build.sh),
# DEVENV_KIND_TIMEOUT (seconds to wait for Ready, default 300).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAME="${DEVENV_CLUSTER:-finops-dev}"
CONFIG="${DEVENV_KIND_CONFIG:-$HERE/kind-config.ci.yaml}"
TIMEOUT="${DEVENV_KIND_TIMEOUT:-300}"
eval "$("$HERE/build.sh" --print-env)"
CONTEXT="kind-$NAME"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }

[[ -x "$KIND" ]] || die "kind not built: run ci/kind/build.sh"
[[ -x "$KUBECTL" ]] || die "kubectl not built: run ci/kind/build.sh"
k() { "$KUBECTL" --context "$CONTEXT" "$@"; }

exists() { "$KIND" get clusters 2>/dev/null | grep -qx "$NAME"; }

node_ready() {
  [[ "$(k get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null \
    | sort -u)" == "True" ]]
}

wait_until() {  # wait_until SECONDS WHAT COMMAND...
  local deadline=$(( $(date +%s) + $1 )) what="$2"; shift 2
  until "$@"; do
    (( $(date +%s) < deadline )) || return 1
    sleep 2
  done
  log "$what after $(( $(date +%s) - START ))s"
}

install_kube_router() {
  # The same kube-router objects `devenv up --policy-enforcer kube-router` installs.
  DEVENV_IMAGE_KUBE_ROUTER="$KUBE_ROUTER_IMAGE" "${PYTHON:-$HERE/../../.venv/bin/python}" -c \
    'import os; from devenv.render.policy_enforcer import render_policy_enforcer as r
from devenv.topology.images import resolve_images; from devenv.yamlio import dump_documents
print(dump_documents(r("kube-router", resolve_images(None, os.environ))))' | k apply -f - >&2
  k -n kube-system rollout status daemonset/kube-router --timeout="${TIMEOUT}s" >&2 \
    || die "kube-router did not become ready (kubectl --context $CONTEXT -n kube-system logs ds/kube-router)"
}

up() {
  START=$(date +%s)
  docker image inspect "$NODE_IMAGE" >/dev/null 2>&1 \
    || die "node image $NODE_IMAGE missing: run ci/kind/build.sh"
  if exists; then
    "$KIND" export kubeconfig --name "$NAME" >/dev/null 2>&1 || true
    local current
    current=$(docker inspect -f '{{.Config.Image}}' "$NAME-control-plane" 2>/dev/null || true)
    if [[ "$current" != "$NODE_IMAGE" ]]; then
      log "cluster $NAME runs $current, not $NODE_IMAGE: recreating"
      "$KIND" delete cluster --name "$NAME" >&2
    elif node_ready; then
      log "reusing healthy cluster $NAME"
    else
      log "cluster $NAME exists but is not Ready: recreating"
      "$KIND" delete cluster --name "$NAME" >&2
    fi
  fi
  if ! exists; then
    log "creating cluster $NAME from $NODE_IMAGE"
    "$KIND" create cluster --name "$NAME" --image "$NODE_IMAGE" --config "$CONFIG" --wait 0s >&2 \
      || die "kind create cluster failed (kind export logs --name $NAME /tmp/kind-logs)"
  fi
  wait_until "$TIMEOUT" "node Ready" node_ready \
    || die "node not Ready after ${TIMEOUT}s (kubectl --context $CONTEXT describe nodes)"
  install_kube_router
  k -n kube-system rollout status deployment/coredns --timeout="${TIMEOUT}s" >&2 \
    || die "coredns did not become ready"
  log "cluster $NAME up in $(( $(date +%s) - START ))s (context $CONTEXT)"
}

status() {
  exists || { log "no cluster $NAME"; return 1; }
  "$KIND" export kubeconfig --name "$NAME" >/dev/null 2>&1 || true
  k get nodes -o wide
  k get pods -A
  node_ready
}

down() {
  if exists; then "$KIND" delete cluster --name "$NAME" >&2; else log "no cluster $NAME"; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: $0 up|down|status" ;;
esac
