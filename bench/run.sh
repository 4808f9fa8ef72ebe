#!/usr/bin/env bash
# Tollgate against the incumbents (Apache mod_auth_openidc and mod_oauth2), side by side on
# loopback with a real Glewlwyd IdP; see bench/README.md. Installs what it needs from Debian,
# builds the release binary (unless BENCH_BIN names one), runs bench/bench.py, which starts and
# stops everything by PID. A full run writes a new dated section at the top of BENCHMARKS.md.
#
# Usage: bench/run.sh [--quick]     (--quick: one 2 s round, 2,000 cached tokens, prints only; used by CI)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/lib/apt-install.sh wrk nginx-light apache2 libapache2-mod-auth-openidc libapache2-mod-oauth2 glewlwyd sqlite3 openssl curl python3

if [ "${1:-}" != "--quick" ]; then  # the full run adds the Orthanc rows (bench/orthanc.py)
  scripts/lib/apt-install.sh orthanc orthanc-dicomweb orthanc-python
fi
bin=${BENCH_BIN:-$(scripts/build-release.sh)}
# The floor reference (bench/floor.py): tollgate-bench's plain SwiftNIO server, built in release for a
# full run; the quick round only keeps the harness working, so a debug build (CI's, already made) does.
if [ "${1:-}" = "--quick" ]; then
  swift build --product tollgate-bench >&2
  bench_bin="$(swift build --show-bin-path)/tollgate-bench"
else
  swift build -c release --product tollgate-bench >&2
  bench_bin="$(swift build -c release --show-bin-path)/tollgate-bench"
fi
# tmpfs: Glewlwyd's sqlite fsyncs per token on disk. World-traversable: Apache's workers run as www-data.
work=$(mktemp -d /dev/shm/tollgate-bench.XXXXXX)
chmod 755 "$work"
# cryptography signs the ES256 / EdDSA tokens; pydicom makes the Orthanc rows' studies
python_needs=$(python3 -c 'import cryptography' 2>/dev/null || echo cryptography)
[ "${1:-}" = "--quick" ] || python_needs="$python_needs pydicom"
[ -z "$python_needs" ] || python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$work/py" $python_needs >/dev/null
mkdir -p "$work/audit"
if PYTHONPATH="$work/py" python3 -u bench/bench.py --tollgate "$bin" --work "$work" --repo "$PWD" "$@" \
  && python3 -u bench/audit.py --tollgate "$bin" --work "$work/audit" "$@" \
  && PYTHONPATH="$work/py" python3 -u bench/dpop.py --tollgate "$bin" --work "$work/dpop" "$@" \
  && python3 -u bench/floor.py --tollgate "$bin" --bench "$bench_bin" --work "$work/floor" "$@" \
  && python3 -u bench/settled.py --tollgate "$bin" --work "$work/settled" "$@"; then
  rm -rf "$work"
else
  echo "bench: failed; logs kept in $work" >&2
  exit 1
fi
