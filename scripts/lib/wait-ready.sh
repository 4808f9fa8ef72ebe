#!/usr/bin/env bash
# Waits up to 10 s for a Tollgate's /ready to answer 200; otherwise prints its log and fails.
#   wait-ready.sh BASE_URL LOG_FILE WHO      (WHO names the caller in the failure line)
set -euo pipefail
base=${1:?usage: wait-ready.sh BASE_URL LOG_FILE WHO}
log=${2:?usage: wait-ready.sh BASE_URL LOG_FILE WHO}
who=${3:-tollgate}
for _ in $(seq 1 100); do
  curl -fs "$base/ready" >/dev/null 2>&1 && exit 0
  sleep 0.1
done
curl -fs "$base/ready" >/dev/null 2>&1 && exit 0
cat "$log"
echo "$who: not ready"
exit 1
