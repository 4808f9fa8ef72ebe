#!/usr/bin/env bash
# Issue 18's Orthanc row (bench/orthanc.py): Orthanc 1.10 with the shipped filter vs without it,
# QIDO-RS and WADO-RS at 8 concurrent clients.
# Usage: bench/orthanc.sh [--rounds N] [--seconds S]    (BENCH_BIN=path/to/tollgate to skip the build)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/lib/apt-install.sh wrk orthanc orthanc-dicomweb orthanc-python curl python3
bin=${BENCH_BIN:-$(scripts/build-release.sh)}
work=$(mktemp -d /tmp/tollgate-orthanc-bench.XXXXXX)
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$work/py" pydicom >/dev/null
if PYTHONPATH="$work/py" python3 -u bench/orthanc.py --tollgate "$bin" --work "$work" "$@"; then
  rm -rf "$work"
else
  echo "bench: failed; logs kept in $work" >&2
  exit 1
fi
