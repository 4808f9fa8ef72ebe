#!/usr/bin/env bash
# Tests docs/openapi.yaml as a contract: schemathesis (PyPI) generates requests from the document
# against a live Tollgate with every route family on (dev issuer, registry, outbound server,
# Orthanc web service, admin API key) and checks every answer against it: all checks, all four
# phases, the stateful phase following the registry's links. Zero failures are allowed; the
# exclusions below are each named with the reason. Usage: scripts/contract.sh PATH/TO/tollgate [PORT]
set -euo pipefail
bin=${1:?usage: contract.sh PATH/TO/tollgate [PORT]}
port=${2:-18190}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$work/py" schemathesis==4.32.5 >/dev/null

api_key=contract-api-key-$RANDOM$RANDOM$RANDOM
webservice_password=contract-webservice-$RANDOM$RANDOM
share_key=contract-share-key-$RANDOM$RANDOM$RANDOM$RANDOM
cat >"$work/config.yaml" <<YAML
server: {host: 127.0.0.1, port: $port}
log: {level: error, format: json}
inbound:
  issuers:
    - name: dev
      embedded: true
      discovery: true
      mode: introspection
      introspection: {client_id: tollgate-dev, client_secret: tollgate-dev-secret}
dev_issuer:
  enabled: true
  clients:
    - {client_id: tollgate-dev, client_secret: tollgate-dev-secret, scopes: [read, write]}
admin:
  auth_mode: api_key
  api_keys: ["$api_key"]
outbound:
  servers:
    self:
      url: http://127.0.0.1:$port/auth/
      token_endpoint: http://127.0.0.1:$port/dev-issuer/token
      client_id: tollgate-dev
      client_secret: tollgate-dev-secret
      scope: read
orthanc:
  webservice_username: orthanc
  webservice_password: "$webservice_password"
  share_tokens: {key: "$share_key"}
registry:
  enabled: true
  store: memory
  callback_base_url: http://127.0.0.1:$port
  encryption: {dev_key_file: "$work/registry-dev.key"}
YAML
"$bin" check-config --config "$work/config.yaml" >/dev/null
"$bin" serve --config "$work/config.yaml" >"$work/log" 2>&1 &
pid=$!
"$root/scripts/lib/wait-ready.sh" "http://127.0.0.1:$port" "$work/log" contract
token=$(curl -fs -u tollgate-dev:tollgate-dev-secret -d grant_type=client_credentials -d "scope=read write" \
  "http://127.0.0.1:$port/dev-issuer/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# A connection the run reuses: the /oauth/... operations on {name} and /proxy/{server} all reach
# this one (the /api/oauth/... twins, the same handlers, keep generated names), and a registered dependent keeps
# DELETE answering 409 CONNECTION_IN_USE so it lives through the run. Its token comes from the dev
# issuer, so credentials, test and the proxy get real tokens.
admin=(-H "X-API-Key: $api_key" -H "Content-Type: application/json")
curl -fs -o /dev/null "${admin[@]}" "http://127.0.0.1:$port/oauth/connections" -d "{\"connection_name\":\"contract-peer\",\"oauth_flow_type\":\"client_credentials\",\"client_id\":\"tollgate-dev\",\"client_secret\":\"tollgate-dev-secret\",\"token_url\":\"http://127.0.0.1:$port/dev-issuer/token\",\"scopes\":\"read\",\"url\":\"http://127.0.0.1:$port/auth/\"}"
curl -fs -o /dev/null "${admin[@]}" "http://127.0.0.1:$port/oauth/connections/contract-peer/dependencies" -d '{"dependent_id":"contract-run"}'

cat >"$work/schemathesis.toml" <<TOML
[auth.openapi.apiKey]
api_key = "$api_key"
[auth.openapi.bearer]
bearer = "$token"
[auth.openapi.orthancWebService]
username = "orthanc"
password = "$webservice_password"
[auth.openapi.devClient]
username = "tollgate-dev"
password = "tollgate-dev-secret"

[checks]
enabled = true

# The stateful phase chains requests along the document's links (a created connection is read,
# changed, tested, proxied through and deleted); positive data keeps the chains alive.
[phases.stateful]
generation.mode = "positive"
max-steps = 20

[[operations]]
include-path-regex = "^/oauth/(connections|credentials)/[{]name[}]"
parameters = { name = "contract-peer" }

# The proxy through that runtime connection (its token injected, to this instance's /auth/), and
# the configured server "self" for the token and injection routes.
[[operations]]
include-path-regex = "^/proxy/"
parameters = { server = "contract-peer" }

[[operations]]
include-path-regex = "^/(token|auth/outbound)/[{]server[}]"
parameters = { server = "self" }

# Exclusions, all of positive_data_acceptance ("a request the schema allows is accepted"): where
# acceptance depends on facts no JSON Schema can state, that check also accepts the one refusal
# named. Every other check runs on every operation.

# A callback's state is accepted once, and only after /authorize issued it for a real IdP round
# trip; any other state is refused with 400 INVALID_STATE by design.
[[operations]]
include-path-regex = "/oauth/callback/"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# Creating or changing a connection checks rules across fields (the credential auth_method needs,
# authorization_url and issuer for authorization_code and openid, orthanc_push needing url, URLs
# without credentials, a PEM key that parses), documented in ConnectionRequest and answered 400.
[[operations]]
include-path-regex = "/oauth/connections(/[{]name[}])?$"
include-method = ["POST", "PUT"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "429", "5xx"]

# An imported refresh token is exchanged at once; one the IdP does not know is refused (400).
[[operations]]
include-path-regex = "/refresh-token$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# The body's "type" must equal the URL's {type}: a constraint between the path and the body.
[[operations]]
include-path = "/tokens/{type}"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# The path is any upstream path; one a backend could read differently (dot segments, encoded
# slashes) is refused with 400 INVALID_PATH, which a pattern cannot say without look-around.
[[operations]]
include-path-regex = "^/proxy/"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]

# A PUT's If-Match is compared before the body is read: a stale generation answers 412 whatever the body.
[[operations]]
include-path-regex = "/oauth/connections/[{]name[}]$"
include-method = "PUT"
checks.negative_data_rejection.expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "412", "415", "422", "428", "429"]

# The stateful phase creates connections whose token_url and url are generated, so nothing answers
# there: 503 TOKEN_UNAVAILABLE (documented) is then the right answer, and the proxy's 502/504 too.
# not_a_server_error still catches any other 5xx, a crash or a hang on these operations.
[[operations]]
include-path-regex = "/(credentials/[{]name[}]|test|refresh-token)$|^/proxy/|^/token"
checks.not_a_server_error.expected-statuses = ["1xx", "2xx", "3xx", "4xx", "502", "503", "504"]

# The dev issuer grants only the scopes configured for its client, a resource only as an absolute
# URI, and one client authentication at a time (400 invalid_scope, invalid_target, invalid_request).
[[operations]]
include-path = "/dev-issuer/token"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
TOML

cd "$work"
# One worker: with several, Hypothesis parses lambdas with ast.parse on many threads at once, which
# CPython 3.11 can fail with "SystemError: AST constructor recursion depth mismatch".
PYTHONPATH="$work/py" python3 -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "schemathesis"; sys.exit(schemathesis())' \
  --no-color run "$root/docs/openapi.yaml" --url "http://127.0.0.1:$port" \
  --phases "${CONTRACT_PHASES:-examples,coverage,fuzzing,stateful}" --max-examples "${CONTRACT_MAX_EXAMPLES:-50}" \
  --seed "${CONTRACT_SEED:-20261207}" || {
  echo "contract: schemathesis found mismatches between docs/openapi.yaml and the running service (above)"
  exit 1
}
if ! kill -0 "$pid" 2>/dev/null; then cat "$work/log"; echo "contract: tollgate died"; exit 1; fi
