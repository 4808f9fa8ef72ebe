#!/usr/bin/env bash
# Soak test (see bench/soak.py): a mixed load at ~80% of measured capacity against Tollgate with a
# real Glewlwyd that is killed and restarted twice; RSS, fds, statuses by class, survival.
# Usage: bench/soak.sh [SECONDS] [--record]     (default 600 s; --record appends to BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
scripts/lib/apt-install.sh wrk glewlwyd sqlite3 openssl curl python3
bin=${BENCH_BIN:-$(scripts/build-release.sh)}
work=$(mktemp -d /dev/shm/tollgate-soak.XXXXXX)
if python3 -u bench/soak.py --tollgate "$bin" --work "$work" --seconds "$seconds" "$@"; then
  rm -rf "$work"
else
  echo "soak: failed; logs kept in $work" >&2
  exit 1
fi
