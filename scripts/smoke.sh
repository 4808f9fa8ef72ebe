#!/usr/bin/env bash
# Runs the README's quick start against a built binary: start `tollgate serve` on the shipped
# config, get a token from the embedded dev issuer, authenticate it, proxy through a second
# instance configured from an Orthanc JSON file, and check that a broken
# config is refused with a message naming the key. Usage: scripts/smoke.sh PATH/TO/tollgate [PORT]
set -euo pipefail
bin=${1:?usage: smoke.sh PATH/TO/tollgate [PORT]}
port=${2:-18080}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# Each instance keeps its registry (SQLite, development key) in a data directory of its own.
TOLLGATE_DATA_DIR="$work/data1" "$bin" serve --config config.yaml --port "$port" >"$work/log" 2>&1 &
pid=$!
scripts/lib/wait-ready.sh "http://127.0.0.1:$port" "$work/log" smoke

# Swift Concurrency runs on the event loops (EventLoopExecutor), which the start line names.
grep -q '"executor":"nio"' "$work/log" || { cat "$work/log"; echo "smoke: tasks are not on NIO's event loops"; exit 1; }

# The container health check command.
"$bin" healthcheck --url "http://127.0.0.1:$port/health" || { echo "smoke: healthcheck failed against a healthy server"; exit 1; }
if "$bin" healthcheck --url "http://127.0.0.1:9/health"; then echo "smoke: healthcheck passed against nothing"; exit 1; fi

# The README's curl pair.
token=$(curl -fs -u tollgate-dev:tollgate-dev-secret -d grant_type=client_credentials -d scope=read \
  "http://127.0.0.1:$port/dev-issuer/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
answer=$(curl -fs -X POST "http://127.0.0.1:$port/plugin/authenticate" -H 'Content-Type: application/json' \
  -d "{\"credentials\":{\"type\":\"bearer\",\"token\":\"$token\"},\"context\":{\"method\":\"GET\",\"uri\":\"/api\",\"headers\":{}}}")
echo "$answer" | python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; assert r["authenticated"] is True and r["user_id"]=="tollgate-dev", r'
if grep -qF "$token" "$work/log"; then echo "smoke: the token appeared in the log"; exit 1; fi

# Outbound via the seed-000 migration path: a second Tollgate reads its outbound server from an
# Orthanc JSON file, gets tokens from the first one's dev issuer and proxies to the first one's
# forward-auth endpoint, which only answers 200 for a valid injected token.
port2=$((port + 1))
cat >"$work/orthanc.json" <<JSON
{
  // comments are allowed, as in Orthanc
  "DicomWebOAuth": { "Servers": { "first": {
    "Url": "http://127.0.0.1:$port/auth/",
    "TokenEndpoint": "http://127.0.0.1:$port/dev-issuer/token",
    "ClientId": "tollgate-dev", "ClientSecret": "\${SMOKE_CLIENT_SECRET}", "Scope": "read",
    "TokenRefreshBufferSeconds": 300 } } }
}
JSON
cp config.yaml "$work/second.yaml"
printf 'admin:\n  auth_mode: api_key\n  api_keys: ["${SMOKE_API_KEY}"]\n' >>"$work/second.yaml"
export SMOKE_CLIENT_SECRET=tollgate-dev-secret SMOKE_API_KEY=smoke-api-key-0123456789
TOLLGATE_DATA_DIR="$work/data2" "$bin" serve --config "$work/second.yaml" --port "$port2" --orthanc-config "$work/orthanc.json" >"$work/log2" 2>&1 &
pid2=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port2/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
headers=$(curl -fs -D - -o /dev/null -H "X-API-Key: $SMOKE_API_KEY" "http://127.0.0.1:$port2/proxy/first/studies") \
  || { cat "$work/log2"; kill "$pid2"; echo "smoke: proxy through the second instance failed"; exit 1; }
echo "$headers" | grep -qi '^x-auth-client-id: tollgate-dev' || { echo "$headers"; kill "$pid2"; echo "smoke: injected token not validated"; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port2/token/first")
[ "$status" = 401 ] || { kill "$pid2"; echo "smoke: /token without an API key answered $status"; exit 1; }
# The shipped registry: a connection made at run time against the first instance's dev issuer.
created=$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $SMOKE_API_KEY" -H 'Content-Type: application/json' \
  -d "{\"connection_name\":\"smoke\",\"oauth_flow_type\":\"client_credentials\",\"client_id\":\"tollgate-dev\",\"client_secret\":\"$SMOKE_CLIENT_SECRET\",\"token_url\":\"http://127.0.0.1:$port/dev-issuer/token\",\"scopes\":\"read\"}" \
  "http://127.0.0.1:$port2/oauth/connections")
[ "$created" = 201 ] || { cat "$work/log2"; kill "$pid2"; echo "smoke: registry create answered $created"; exit 1; }
registry_token=$(curl -fs -H "X-API-Key: $SMOKE_API_KEY" "http://127.0.0.1:$port2/oauth/credentials/smoke" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -fs -o /dev/null -H "Authorization: Bearer $registry_token" "http://127.0.0.1:$port/auth" || { kill "$pid2"; echo "smoke: the registry's token is not valid"; exit 1; }
[ "$(stat -c %a "$work/data2/registry.sqlite")" = 600 ] && [ "$(stat -c %a "$work/data2/registry-dev.key")" = 600 ] \
  || { ls -l "$work/data2"; kill "$pid2"; echo "smoke: registry files are not private"; exit 1; }
if grep -rqF "$registry_token" "$work/data2"; then kill "$pid2"; echo "smoke: a token in the registry file"; exit 1; fi
kill -TERM "$pid2"; wait "$pid2" || { echo "smoke: second instance did not exit cleanly"; exit 1; }
if grep -q "tollgate-dev-secret\|$SMOKE_API_KEY" "$work/log2"; then echo "smoke: a secret appeared in the log"; exit 1; fi

# The dev issuer is refused on a non-loopback address (exit 1, naming the key and the address).
if "$bin" check-config --config config.yaml --host 0.0.0.0 2>"$work/err"; then echo "smoke: dev issuer accepted on 0.0.0.0"; exit 1; fi
grep -q "dev_issuer.enabled: .*server.host 0.0.0.0 is not a loopback address" "$work/err" || { cat "$work/err"; echo "smoke: refusal does not name the key"; exit 1; }

# A malformed config exits 1 and names the key.
printf 'server:\n  port: 0\n  hots: x\n' >"$work/bad.yaml"
if "$bin" check-config --config "$work/bad.yaml" 2>"$work/err"; then echo "smoke: bad config accepted"; exit 1; fi
grep -q "server.hots: unknown key" "$work/err" || { cat "$work/err"; echo "smoke: message does not name the key"; exit 1; }

kill -TERM "$pid"
wait "$pid" || { echo "smoke: serve did not exit cleanly on SIGTERM"; exit 1; }
echo "smoke: OK (token issued, authenticated, outbound proxy via --orthanc-config, registry connection made and used, bad config refused, clean SIGTERM exit)"
