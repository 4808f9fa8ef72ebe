#!/usr/bin/env bash
# End-to-end suite: real Glewlwyd (IdP), real Orthanc 1.10 instances with DICOMweb and the
# Python plugin, nginx with the shipped docs/nginx-auth-request.conf (also as ingress-nginx's
# template, and from a network namespace), Caddy with docs/caddy-forward-auth.Caddyfile, Orthanc 1.12.10
# with the official authorization plugin (from ../shared/peers), and Tollgate. Installs what it needs, starts everything,
# cleans up by PID, and prints "N passed, M failed" last. Exit status: 0 when all passed.
# Usage: Tests/e2e/run.sh [PATH/TO/tollgate [IMAGE_DIR]]   (default: scripts/build-release.sh's binary;
# IMAGE_DIR, scripts/build-image.sh's output, adds the run of the container image as shipped)
set -euo pipefail
cd "$(dirname "$0")/../.."

scripts/lib/apt-install.sh orthanc orthanc-dicomweb orthanc-python glewlwyd sqlite3 openssl nginx-light postgresql caddy iproute2 ssl-cert rsyslog rsyslog-gnutls \
    chromium chromium-driver
# Orthanc 1.12.10 and the official authorization plugin come from the shared peers kit (never built
# here): its runtime libraries are Debian's.
peers=${TOLLGATE_PEERS_DIR:-$(cd .. && pwd)/shared/peers}
[ -d "$peers/orthanc-official" ] || peers=/work/shared/peers
[ -d "$peers/orthanc-official" ] || { echo "e2e: the shared peers kit (orthanc-official) is missing: set TOLLGATE_PEERS_DIR" >&2; exit 1; }
export TOLLGATE_PEERS_DIR=$peers
scripts/lib/apt-install.sh $(cat "$peers/orthanc-official/runtime-packages.txt")
# The shipped nginx example names Debian's snakeoil pair; ssl-cert makes it only when it can.
[ -e /etc/ssl/certs/ssl-cert-snakeoil.pem ] || make-ssl-cert generate-default-snakeoil

work=$(mktemp -d /tmp/tollgate-e2e.XXXXXX)
# pydicom makes the studies; cryptography signs the DPoP proofs (Tests/e2e/dpop.py); selenium drives
# headless Chromium through the console (Tests/e2e/console_browser.py, screenshots in Tests/e2e/out/).
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$work/py" pydicom cryptography selenium==4.51.0 >/dev/null
# fhir.resources (and its pydantic) apart: only the audit checks load it, through scripts/validate-fhir-audit.py.
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$work/fhir" fhir.resources==8.3.0 >/dev/null

bin=${1:-}
[ -n "$bin" ] || bin=$(scripts/build-release.sh)

image=${2:+--image=$2}
PYTHONPATH="$work/py" exec python3 Tests/e2e/e2e.py --tollgate "$bin" --work "$work" --filter docker/orthanc/tollgate_filter.py --fhir-path "$work/fhir" $image
