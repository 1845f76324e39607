#!/usr/bin/env bash
# Runs schemathesis against a real `cguard server` on the given backend (sqlite or
# postgres): every operation of the served OpenAPI document, with an administrator's
# token and, for the shields' operations, an enrolled node's credential. Fails on any
# 5xx answer or any answer that does not conform to the document.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:?usage: scripts/schemathesis.sh sqlite|postgres}
examples=${SCHEMATHESIS_EXAMPLES:-30}
bin=${CGUARD_BIN:-target/debug/cguard}
[ -x "$bin" ] || cargo build -q -p cguard
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')-pw
db_args=()
pg_name=""
if [ "$backend" = postgres ]; then
  admin_url=$(cat .cache/postgres-test-url)
  pg_name="cguard_schemathesis_$$"
  psql -q "$admin_url" -c "CREATE DATABASE $pg_name"
  db_args=(--database "${admin_url%/*}/$pg_name")
fi
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$pg_name" ] && psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)"
  rm -rf "$work"
}
trap cleanup EXIT
CGUARD_ADMIN_PASSWORD=$password "$bin" server --data-dir "$work/data" --listen "127.0.0.1:$port" "${db_args[@]}" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do curl -sf "$base/api/v1/health" >/dev/null && break; sleep 0.2; done
json() { curl -sf -H 'content-type: application/json' "$@"; }
token=$(json -X POST "$base/api/v1/auth/login" -d "{\"username\":\"admin\",\"password\":\"$password\"}" | jq -r .token)
auth=(-H "Authorization: Bearer $token")
# A node to run the shield operations as.
json -X PUT "$base/api/v1/authorization" "${auth[@]}" >/dev/null
cluster=$(json -X POST "$base/api/v1/clusters" "${auth[@]}" -d '{"name":"schemathesis","kind":"hosts"}' | jq -r .id)
enrol=$(json -X POST "$base/api/v1/clusters/$cluster/protection/open" "${auth[@]}" -d '{"accept_disclaimer":true}' | jq -r .enrolment_token)
node=$(json -X POST "$base/api/v1/shield/enrol" -d "{\"token\":\"$enrol\",\"node_name\":\"st-node\",\"shield_version\":\"0\"}" | jq -r .credential)

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
common=(--checks "$checks" --max-examples "$examples" --seed 1 --suppress-health-check all)
echo "schemathesis on $backend: user operations"
# Signing out and revoking tokens would end this run's own credential; the enrolment
# route would replace the node's. The Rust tests cover those three.
schemathesis run "$base/api/v1/openapi.json" "${common[@]}" "${auth[@]}" \
  --exclude-path-regex '^/api/v1/(shield/|auth/logout|auth/tokens/)' 
echo "schemathesis on $backend: shield operations"
schemathesis run "$base/api/v1/openapi.json" "${common[@]}" -H "Authorization: Bearer $node" \
  --include-path-regex '^/api/v1/shield/(heartbeat|policies|events)'
if grep -q 'panicked' "$work/server.log"; then
  echo "the server panicked:"; cat "$work/server.log"; exit 1
fi
