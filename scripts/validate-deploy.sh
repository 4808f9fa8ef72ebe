#!/usr/bin/env bash
# Offline validation of everything deployment-related (there is no Docker engine or cluster here):
#   - k8s/, k8s/sqlite/ and k8s/sidecar/: every manifest and the rendered kustomizations against the
#     pinned Kubernetes schema with kubernetes-validate --strict;
#   - every Tollgate config in the rendered ConfigMaps and docker/tollgate.yaml: `tollgate check-config`;
#   - docker/docker-compose.yml: structure, references and mounted files (scripts/check-compose.py);
#   - docs/openapi.yaml: a valid OpenAPI 3.1 document (openapi-spec-validator);
#   - docs/nginx-auth-request.conf exactly as shipped: `nginx -t`; docs/caddy-forward-auth.Caddyfile: `caddy validate`;
#   - k8s/observability/: `promtool check rules` and `promtool test rules`, the ServiceMonitor against the Service;
#   - each rendered kustomization: a grace period over the drain, SQLite registries only with Recreate (check-rollout.py).
# Usage: scripts/validate-deploy.sh PATH/TO/tollgate
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: validate-deploy.sh PATH/TO/tollgate}
k8s_version=1.31.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$work/py" kubernetes-validate==1.37.0 pyyaml openapi-spec-validator==0.9.0
export PYTHONPATH="$work/py"
validate() { python3 -m kubernetes_validate --strict --quiet -k "$k8s_version" "$@"; }

variants=(k8s k8s/sqlite k8s/sidecar)
for dir in "${variants[@]}"; do
  manifests=$(ls "$dir"/*.yaml | grep -v '/kustomization.yaml$')
  validate $manifests
  rendered="$work/rendered-${dir//\//-}.yaml"
  python3 scripts/render-kustomization.py "$dir" >"$rendered"
  validate "$rendered"
  python3 scripts/check-rollout.py "$rendered"
  echo "validate-deploy: $dir and its rendered kustomization pass Kubernetes $k8s_version (strict)"
done

# The Tollgate configs shipped in ConfigMaps and for compose must load, with placeholder secrets.
export TOLLGATE_INTROSPECTION_SECRET=x ORTHANC_OUTBOUND_SECRET=x TOLLGATE_API_KEY=placeholder-api-key-0123456789 \
       KEYCLOAK_TOLLGATE_SECRET=x KEYCLOAK_ORTHANC_SECRET=x ORTHANC_WEBSERVICE_PASSWORD=x TOLLGATE_SHARE_KEY=placeholder-share-key-0123456789abcdef \
       TOLLGATE_REGISTRY_KEY=$(head -c 32 /dev/urandom | base64)
python3 - "$work" <<'PY'
import sys, yaml, pathlib
work = pathlib.Path(sys.argv[1])
count = 0
for path in sorted(work.glob("rendered-*.yaml")):
    for doc in yaml.safe_load_all(open(path)):
        if doc and doc.get("kind") == "ConfigMap":
            for key, value in doc.get("data", {}).items():
                if key.endswith(".yaml"):
                    count += 1
                    (work / ("cm-%d.yaml" % count)).write_text(value)
print("validate-deploy: %d Tollgate configs found in ConfigMaps" % count)
PY
export TOLLGATE_ISSUER=https://idp.example/realms/hospital TOLLGATE_INTROSPECTION_CLIENT_ID=tollgate TOLLGATE_INTROSPECTION_CLIENT_SECRET=x
for config in "$work"/cm-*.yaml docker/tollgate.yaml docker/config.image.yaml; do
  "$bin" check-config --config "$config" >/dev/null || { echo "validate-deploy: $config is not a valid Tollgate config"; exit 1; }
done
echo "validate-deploy: Tollgate configs in ConfigMaps, docker/tollgate.yaml and the image's docker/config.image.yaml pass check-config"

# One version: every Tollgate image tag names what the binary prints.
version=$("$bin" version | awk '{print $2}')
tags=$(grep -rhoE 'ghcr.io/example/tollgate:[^ "]+' k8s docker | sort -u)
for tag in $tags; do
  [ "${tag##*:}" = "$version" ] || { echo "validate-deploy: image $tag does not match tollgate $version"; exit 1; }
done
echo "validate-deploy: image tags ($tags) match tollgate $version"

python3 scripts/check-compose.py docker/docker-compose.yml

# The API description (a Swift test checks that it lists every route the router registers).
python3 -m openapi_spec_validator docs/openapi.yaml

# The proxy examples run as shipped: nginx -t on the file itself (included into an http context,
# as conf.d would), caddy validate on the Caddyfile with its default placeholders.
scripts/lib/apt-install.sh nginx-light caddy ssl-cert
[ -e /etc/ssl/certs/ssl-cert-snakeoil.pem ] || make-ssl-cert generate-default-snakeoil
printf 'pid %s/nginx.pid;\nerror_log stderr;\nevents {}\nhttp { include %s/docs/nginx-auth-request.conf; }\n' "$work" "$PWD" >"$work/nginx.conf"
nginx -t -q -c "$work/nginx.conf"
echo "validate-deploy: docs/nginx-auth-request.conf passes nginx -t as shipped"
HOME="$work" XDG_DATA_HOME="$work" XDG_CONFIG_HOME="$work" caddy validate --adapter caddyfile --config docs/caddy-forward-auth.Caddyfile >/dev/null 2>&1 \
  || { echo "validate-deploy: docs/caddy-forward-auth.Caddyfile does not validate"; exit 1; }
echo "validate-deploy: docs/caddy-forward-auth.Caddyfile passes caddy validate as shipped"

# The operations kit (k8s/observability/): the alert rules load and every alert fires on its own
# case and stays quiet on its near miss (promtool from Debian's prometheus); the ServiceMonitor
# scrapes a port the Service has; the dashboard is JSON whose metric names a Swift test checks
# against a live instance.
scripts/lib/apt-install.sh prometheus
promtool check rules k8s/observability/tollgate.rules.yaml
(cd k8s/observability && promtool test rules tollgate.rules.test.yaml)
python3 - <<'PY'
import json, yaml
monitor = yaml.safe_load(open("k8s/observability/servicemonitor.yaml"))
service = yaml.safe_load(open("k8s/service.yaml"))
ports = {port["name"] for port in service["spec"]["ports"]}
assert monitor["kind"] == "ServiceMonitor" and monitor["apiVersion"] == "monitoring.coreos.com/v1", "not a ServiceMonitor"
assert monitor["spec"]["selector"]["matchLabels"].items() <= service["spec"]["selector"].items(), "the ServiceMonitor selects no Tollgate Service"
for endpoint in monitor["spec"]["endpoints"]:
    assert endpoint["port"] in ports and endpoint["path"] == "/metrics", "endpoint %s is not the Service's metrics port" % endpoint
dashboard = json.load(open("k8s/observability/grafana-dashboard.json"))
assert dashboard["panels"] and all(panel["targets"] for panel in dashboard["panels"]), "a dashboard panel without a query"
print("validate-deploy: k8s/observability: ServiceMonitor on the Service's %s port, dashboard with %d panels" % (sorted(ports), len(dashboard["panels"])))
PY
