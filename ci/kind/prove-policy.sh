#!/usr/bin/env bash
# Prove NetworkPolicies are enforced in the CI kind cluster, since an enforcer
# that fails open looks exactly like one that works until something denies.
#
# In a scratch namespace: a TCP server pod and a client pod; the client
# connects; a default-deny ingress policy goes in and the connection must now
# fail; a policy allowing the client back in must make it pass again (so the
# failure came from the policy, not from broken networking). Exit 1 otherwise.
#
# Env: DEVENV_CLUSTER (default finops-dev), DEVENV_CI_CACHE.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAME="${DEVENV_CLUSTER:-finops-dev}"
eval "$("$HERE/build.sh" --print-env)"
NS="policy-proof-$$"
PORT=8080

log() { printf '[policy] %s\n' "$*" >&2; }
fail() { printf '[policy] FAIL: %s\n' "$*" >&2; exit 1; }
k() { "$KUBECTL" --context "kind-$NAME" "$@"; }

cleanup() { k delete namespace "$NS" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT

# connects: 0 if the client opens a TCP connection to the server in 3 s.
connects() {
  k -n "$NS" exec client -- python3 -c '
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
' "$SERVER_IP" "$PORT" >/dev/null 2>&1
}

# expect STATE SECONDS: wait until `connects` gives STATE (pass|fail) twice
# in a row; policy controllers apply changes asynchronously.
expect() {
  local want="$1" deadline=$(( $(date +%s) + $2 )) streak=0 got
  while (( $(date +%s) < deadline )); do
    if connects; then got=pass; else got=fail; fi
    if [[ "$got" == "$want" ]]; then
      streak=$((streak + 1)); (( streak >= 2 )) && return 0
    else
      streak=0
    fi
    sleep 1
  done
  return 1
}

k create namespace "$NS" >/dev/null
k label namespace "$NS" purpose=policy-proof >/dev/null
for pod in server client; do
  cmd=(sleep 3600)
  [[ $pod == server ]] && cmd=(python3 -m http.server "$PORT")
  k -n "$NS" run "$pod" --image="$PROBE_IMAGE" --image-pull-policy=Never \
    --labels="app=$pod" --restart=Never --command -- "${cmd[@]}" >/dev/null
done
k -n "$NS" wait --for=condition=Ready pod/server pod/client --timeout=120s >/dev/null \
  || fail "probe pods not Ready (kubectl --context kind-$NAME -n $NS describe pods)"
SERVER_IP=$(k -n "$NS" get pod server -o jsonpath='{.status.podIP}')
log "server $SERVER_IP:$PORT, client $(k -n "$NS" get pod client -o jsonpath='{.status.podIP}')"

expect pass 30 || fail "client cannot reach the server even without any policy"
log "no policy: client connects (expected)"

k -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
spec:
  podSelector: {}
  policyTypes: [Ingress]
EOF
expect fail 60 || fail "default-deny ingress did NOT deny: NetworkPolicy is not enforced"
log "default-deny ingress: connection refused/dropped (expected)"

k -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-to-server
spec:
  podSelector: {matchLabels: {app: server}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: client}}}]
      ports: [{protocol: TCP, port: $PORT}]
EOF
expect pass 60 || fail "allow policy did not restore the connection"
log "allow client->server: client connects again (expected)"
log "PASS: NetworkPolicy is enforced"
