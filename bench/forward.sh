#!/usr/bin/env bash
# Issue 15's benchmark rows (bench/forward.py): nginx straight vs nginx + Tollgate token injection
# vs Tollgate /proxy (small answers and a 200 MB download), and /auth with 20 rules vs none.
# Usage: bench/forward.sh [--rounds N] [--seconds S]    (BENCH_BIN=path/to/tollgate to skip the build)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/lib/apt-install.sh wrk nginx-light curl python3
bin=${BENCH_BIN:-$(scripts/build-release.sh)}
work=$(mktemp -d /dev/shm/tollgate-forward.XXXXXX)
chmod 755 "$work"   # nginx workers run as www-data
if python3 -u bench/forward.py --tollgate "$bin" --work "$work" --repo "$PWD" "$@"; then
  rm -rf "$work"
else
  echo "bench: failed; logs kept in $work" >&2
  exit 1
fi
