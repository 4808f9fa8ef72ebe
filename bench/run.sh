#!/usr/bin/env bash
# Tollgate benchmark harness. Builds a release binary, starts it on loopback with the shipped
# config (embedded dev issuer, mode auto: JWTs verified locally), and measures side by side,
# interleaved in rounds:
#   - GET /health (the server's own floor)
#   - POST /plugin/authenticate with one token (the cached-decision path, MockForge protocol)
#   - GET /auth with one hot JWT (the cached-decision path, forward-auth)
#   - nginx `return 200` straight, and the same through Tollgate's token-injecting /proxy/bench/
# plus idle RSS, start-to-ready time and uncached in-process RS256 verification rate. Ratios in one run are the result; absolute numbers
# on a shared 2-core machine are noisy. Writes a new dated section at the top of BENCHMARKS.md.
#
# Usage: bench/run.sh [--quick]     (--quick: one 3 s round, no BENCHMARKS.md update; used by CI)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
[ "${1:-}" = "--quick" ] && quick=true
rounds=3; duration=10s; warmup=3s
$quick && { rounds=1; duration=3s; warmup=1s; }
port=${BENCH_PORT:-18090}

nginx_port=$((port + 1))

if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
fi
bin=${BENCH_BIN:-$(scripts/build-release.sh)}
work=$(mktemp -d)
pid=""; nginx_pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# The upstream for the proxy scenario: nginx answering 200 from memory, in the foreground.
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  server { listen 127.0.0.1:$nginx_port; location / { return 200 "ok\n"; } }
}
NGINX
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!

# The shipped config plus one outbound server whose tokens come from the embedded dev issuer.
cp config.yaml "$work/config.yaml"
cat >>"$work/config.yaml" <<YAML
outbound:
  servers:
    bench:
      url: http://127.0.0.1:$nginx_port/
      token_endpoint: http://127.0.0.1:$port/dev-issuer/token
      client_id: tollgate-dev
      client_secret: tollgate-dev-secret
admin:
  auth_mode: none
YAML

# Start to ready, measured from exec to the first 200 on /ready (now including the first outbound token).
start_ns=$(date +%s%N)
TOLLGATE_DEV_MODE=auto TOLLGATE_PORT=$port "$bin" serve --config "$work/config.yaml" >"$work/log" 2>&1 &
pid=$!
until curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1; do sleep 0.01; done
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
sleep 1
idle_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

export TOKEN=$(curl -fs -u tollgate-dev:tollgate-dev-secret -d grant_type=client_credentials \
  "http://127.0.0.1:$port/dev-issuer/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

# wrk -t1 -c32; prints "rps p50_ms p99_ms".
measure() {
  local target=$1 d=$2 out
  if [ "$target" = health ]; then
    out=$(wrk -t1 -c32 -d"$d" --latency "http://127.0.0.1:$port/health")
  elif [ "$target" = forward ]; then
    out=$(wrk -t1 -c32 -d"$d" --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/auth")
  elif [ "$target" = upstream ]; then
    out=$(wrk -t1 -c32 -d"$d" --latency "http://127.0.0.1:$nginx_port/studies")
  elif [ "$target" = proxy ]; then
    out=$(wrk -t1 -c32 -d"$d" --latency "http://127.0.0.1:$port/proxy/bench/studies")
  else
    out=$(wrk -t1 -c32 -d"$d" --latency -s bench/plugin-authenticate.lua "http://127.0.0.1:$port/plugin/authenticate")
  fi
  if echo "$out" | grep -q "Non-2xx"; then echo "bench: $target answered non-2xx" >&2; exit 1; fi
  echo "$out" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ {rps=$2} / 50%/ {p50=ms($2)} / 99%/ {p99=ms($2)}
    END {printf "%.0f %.2f %.2f\n", rps, p50, p99}'
}

targets="health auth forward upstream proxy"
for target in $targets; do measure "$target" "$warmup" >/dev/null; done
for r in $(seq 1 "$rounds"); do
  for target in $targets; do
    echo "$target $(measure "$target" "$duration")" >>"$work/results"
    echo "round $r $target: $(tail -1 "$work/results")"
  done
done
loaded_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
metrics=$(curl -fs "http://127.0.0.1:$port/metrics")
introspections=$(echo "$metrics" | awk '/^tollgate_dev_issuer_requests_total\{endpoint="introspect"\}/ {print $2}')
token_fetches=$(echo "$metrics" | awk '/^token_fetch_total\{server="bench",result="success"\}/ {print $2}')

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v t="$1" -v c="$2" '$1==t {print $c}' "$work/results" | median; }
h_rps=$(col health 2); h_p50=$(col health 3); h_p99=$(col health 4)
a_rps=$(col auth 2); a_p50=$(col auth 3); a_p99=$(col auth 4)
f_rps=$(col forward 2); f_p50=$(col forward 3); f_p99=$(col forward 4)
u_rps=$(col upstream 2); u_p50=$(col upstream 3); u_p99=$(col upstream 4)
p_rps=$(col proxy 2); p_p50=$(col proxy 3); p_p99=$(col proxy 4)
added_p50=$(awk -v p="$p_p50" -v u="$u_p50" 'BEGIN {printf "%.2f", p-u}')
added_p99=$(awk -v p="$p_p99" -v u="$u_p99" 'BEGIN {printf "%.2f", p-u}')
ratio=$(awk -v a="$a_rps" -v h="$h_rps" 'BEGIN {printf "%.0f%%", 100*a/h}')
fratio=$(awk -v a="$f_rps" -v h="$h_rps" 'BEGIN {printf "%.0f%%", 100*a/h}')
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null || true; nginx_pid=""
verify1=$("$bin" bench-verify --seconds "${duration%s}" --tasks 1 | sed 's/.*= //')
verify2=$("$bin" bench-verify --seconds "${duration%s}" --tasks 2 | sed 's/.*= //')

summary=$(cat <<TABLE
## $(date -u +%Y-%m-%d) — $(git rev-parse --short HEAD 2>/dev/null || echo unknown)

Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); $(swift --version 2>&1 | head -1); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2).
\`wrk -t1 -c32 -d$duration\`, wrk on the same 2 cores; medians of $rounds interleaved rounds after a warm-up.

| target | req/s | p50 ms | p99 ms |
|---|---|---|---|
| \`GET /health\` | $h_rps | $h_p50 | $h_p99 |
| \`POST /plugin/authenticate\` (cached decision) | $a_rps | $a_p50 | $a_p99 |
| \`GET /auth\` with one hot JWT (cached decision) | $f_rps | $f_p50 | $f_p99 |
| nginx \`return 200\`, straight | $u_rps | $u_p50 | $u_p99 |
| the same nginx through \`/proxy/bench/\` (token injected) | $p_rps | $p_p50 | $p_p99 |

- cached decision / \`/health\`: **$ratio** (MockForge), **$fratio** (forward-auth)
- uncached RS256 verification in-process (\`tollgate bench-verify\`): $verify1 (1 task), $verify2 (2 tasks)
- proxy overhead over straight nginx: p50 +$added_p50 ms, p99 +$added_p99 ms; token fetches for all proxied requests: ${token_fetches:-?}
- IdP introspection calls during the whole run: ${introspections:-?} (the readiness probe; the JWT was verified locally once, then cache hits)
- start to ready (dev issuer, RSA key generated at start, discovery, probe, JWKS load and the first outbound token): ${ready_ms} ms
- RSS idle: $((idle_rss_kb / 1024)) MB; after the run: $((loaded_rss_kb / 1024)) MB
TABLE
)
echo; echo "$summary"
if ! $quick; then
  { echo "# Benchmarks"; echo; echo "Newest first. Produced by \`bench/run.sh\`; see bench/README.md."; echo; echo "$summary"; echo
    [ -f BENCHMARKS.md ] && sed '1,/^Newest first/d' BENCHMARKS.md | sed '1{/^$/d}'; } >"$work/B.md"
  mv "$work/B.md" BENCHMARKS.md
fi
