#!/usr/bin/env bash
# libFuzzer over the parsers that read network and config input (Sources/TollgateFuzzHarness):
# bearer-header parsing, the unverified JWS peek, introspection answers, token-endpoint answers,
# JWKS documents, ${…} substitution (with YAML loading) and the Orthanc parsers (roles documents,
# resource URIs, the permission table, share-token dates, claim paths) and forward-auth facts (the
# guarded path's canonical form, which must be a fixed point with no separator left, the auth
# URL's constraints, hosts). A separate build (`-sanitize=fuzzer`,
# its own scratch path .build-fuzz); the seed corpus is Tests/fuzz-corpus/TARGET, and what the
# fuzzer finds interesting grows in a scratch copy. A crash stops with its reproducer in
# .build-fuzz/crashes/TARGET (replay it with `tollgate-fuzz TARGET FILE` from a normal build).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]       (default 60 s, every target)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(bearer jws-peek introspection token-endpoint jwks substitution orthanc forward-facts dpop)
scratch=.build-fuzz

started=$(date +%s)
swift build -c release --product tollgate-fuzz --scratch-path "$scratch" \
  -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING >&2
echo "fuzz: build took $(( $(date +%s) - started )) s" >&2
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/tollgate-fuzz"

total=0
for target in "${targets[@]}"; do
  corpus="$scratch/corpus/$target"
  crashes="$scratch/crashes/$target"
  mkdir -p "$corpus" "$crashes"
  cp -n Tests/fuzz-corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  log="$scratch/$target.log"
  if ! TOLLGATE_FUZZ_TARGET="$target" "$bin" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
       -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: $target FAILED (reproducer in $crashes)"
    exit 1
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  total=$((total + runs))
  echo "fuzz: $target: $runs executions in ${seconds}s, 0 crashes, corpus $(ls "$corpus" | wc -l) inputs"
done
echo "fuzz: $total executions in total over ${#targets[@]} targets, 0 crashes"
