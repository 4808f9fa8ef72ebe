#!/usr/bin/env python3
"""A soak: Tollgate under a mixed load at about 80% of its measured capacity for a long while, with
its IdP (a real Glewlwyd) killed and restarted twice. Reports requests and errors by class, RSS
and open file descriptors at start and end, and whether the process survived. Called by
bench/soak.sh; prints a Markdown report (and appends it to BENCHMARKS.md with --record).

Mix (per connection, round robin): cached /auth with one token; /auth with 200 tokens whose
decisions expire every few seconds (misses); garbage tokens; MockForge /plugin/authenticate;
/proxy (Tollgate's own /health as the upstream, with an outbound token from Glewlwyd)."""

import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
from loopback import Processes, glewlwyd_token, request, start_glewlwyd, wait_until  # noqa: E402

PORT = dict(glewlwyd=18760, tg=18780)
API_KEY = "soak-admin-api-key-0123456789"
ALLOWED = {"cached": {200}, "miss": {200, 503}, "garbage": {401, 503}, "mockforge": {200, 503}, "proxy": {200, 503}}

# One wrk per request class (wrk's Lua cannot tell which connection an answer belongs to), with
# connections in proportion to the mix; every class counts its own statuses.
MIX = {"cached": 50, "miss": 20, "garbage": 10, "mockforge": 10, "proxy": 10}

LUA = r"""
local kind, hot, rotation, counter = "%(kind)s", "%(hot)s", {%(rotation)s}, 0
local threads = {}
local pause = %(delay)d
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function delay() return pause end
function request()
  counter = counter + 1
  if kind == "cached" then
    return wrk.format("GET", "/auth", {["Authorization"] = "Bearer " .. hot})
  elseif kind == "miss" then
    return wrk.format("GET", "/auth", {["Authorization"] = "Bearer " .. rotation[(counter %% #rotation) + 1]})
  elseif kind == "garbage" then
    return wrk.format("GET", "/auth", {["Authorization"] = "Bearer garbage-" .. counter .. "-" .. math.random(1000000)})
  elseif kind == "mockforge" then
    return wrk.format("POST", "/plugin/authenticate", {["Content-Type"] = "application/json"},
      '{"context":{"method":"GET","uri":"/api","headers":{}},"credentials":{"type":"bearer","token":"' .. hot .. '"}}')
  else
    return wrk.format("GET", "/proxy/self/health", {["X-API-Key"] = "%(api_key)s"})
  end
end
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, value in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + value end
  end
  for status, value in pairs(total) do io.write("COUNT " .. status .. " " .. value .. "\n") end
  io.write(string.format("ERRORS connect=%%d read=%%d write=%%d timeout=%%d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("LATENCY %%.2f %%.2f\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def tollgate_config(glewlwyd):
    return """server: {host: 127.0.0.1, port: %d, max_connections: 4096, idle_timeout_seconds: 60}
log: {level: warning, format: json, access: false}
inbound:
  cache: {max_entries: 100000, max_ttl_seconds: 5, negative_ttl_seconds: 2}
  issuers:
    - name: glewlwyd
      issuer: %s/api/oidc
      mode: auto
      default_for_opaque: true
      introspection: {client_id: soak-rs, client_secret: soak-rs-secret, auth_method: client_secret_post, timeout_ms: 1000}
outbound:
  servers:
    self:
      url: http://127.0.0.1:%d/
      token_endpoint: %s/api/oidc/token
      client_id: soak-out
      client_secret: soak-out-secret
      scope: soak.read
      refresh_buffer_seconds: 20
      timeout_ms: 1000
  ready_requires_tokens: true
admin: {auth_mode: api_key, api_keys: ["%s"]}
""" % (PORT["tg"], glewlwyd, PORT["tg"], glewlwyd, API_KEY)


def process_figures(pid):
    with open("/proc/%d/status" % pid) as status:
        rss = int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1)) * 1024
    return rss, len(os.listdir("/proc/%d/fd" % pid))


def run_mix(scripts, seconds, connections):
    """Every class at once, each its own wrk; returns {class: (counts, rate, errors, p50, p99)}."""
    running = {}
    for kind, share in MIX.items():
        count = max(1, connections * share // 100)
        running[kind] = subprocess.Popen(["wrk", "-t1", "-c%d" % count, "-d%ds" % seconds, "-s", scripts[kind],
                                          "http://127.0.0.1:%d" % PORT["tg"]], stdout=subprocess.PIPE, text=True)
    results = {}
    for kind, process in running.items():
        out, _ = process.communicate()
        counts = {int(status): int(value) for status, value in re.findall(r"COUNT (\d+) (\d+)", out)}
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        errors = re.search(r"ERRORS (.*)", out).group(1)
        p50, p99 = (float(v) for v in re.search(r"LATENCY ([\d.]+) ([\d.]+)", out).groups())
        results[kind] = (counts, rate, errors, p50, p99)
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--record", action="store_true", help="append the report to BENCHMARKS.md")
    args = parser.parse_args()
    procs = Processes(args.work)
    try:
        glewlwyd = start_glewlwyd(procs, os.path.join(args.work, "glewlwyd"), PORT["glewlwyd"], ["soak.read", "introspect"],
                                  [("soak-rs", "soak-rs-secret", ["introspect"]), ("soak-out", "soak-out-secret", ["soak.read"]),
                                   ("soak-caller", "soak-caller-secret", ["soak.read"])], 3600)
        hot = glewlwyd_token(glewlwyd, "soak-caller", "soak-caller-secret", "soak.read")
        rotation = [glewlwyd_token(glewlwyd, "soak-caller", "soak-caller-secret", "soak.read") for _ in range(200)]
        config = os.path.join(args.work, "tollgate.yaml")
        with open(config, "w") as out:
            out.write(tollgate_config(glewlwyd))
        tollgate = procs.start("tollgate", [args.tollgate, "serve", "--config", config])
        if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/ready" % PORT["tg"])[0] == 200, 30):
            raise SystemExit("soak: Tollgate never became ready")

        def scripts(delay):
            paths = {}
            for kind in MIX:
                paths[kind] = os.path.join(args.work, "%s-%d.lua" % (kind, delay))
                with open(paths[kind], "w") as out:
                    out.write(LUA % {"kind": kind, "hot": hot, "rotation": ",".join('"%s"' % t for t in rotation),
                                     "delay": delay, "api_key": API_KEY})
            return paths

        # Capacity: the same mix flat out.
        capacity = sum(result[1] for result in run_mix(scripts(0), 15, 32).values())
        # About 80% of it: every connection pauses 10 ms between requests; a short calibration run
        # tells how many connections make 80% (wrk's pauses are whole milliseconds).
        delay = 10
        probe = sum(result[1] for result in run_mix(scripts(delay), 10, 200).values())
        connections = max(20, min(2000, int(200 * 0.8 * capacity / max(probe, 1))))
        time.sleep(2)

        # The IdP dies and comes back twice, at fixed points of the run.
        glewlwyd_conf = os.path.join(args.work, "glewlwyd", "glewlwyd.conf")
        from threading import Thread
        result = {}
        worker = Thread(target=lambda: result.update(run_mix(scripts(delay), args.seconds, connections)))
        started = time.monotonic()
        worker.start()
        # "Start" is after a minute at the soak's own load: buffers for its connections are not growth.
        time.sleep(min(60, args.seconds * 0.1))
        rss_start, fds_start = process_figures(tollgate.pid)
        outages = []
        for kill_at in (0.2, 0.6):
            time.sleep(max(0, started + args.seconds * kill_at - time.monotonic()))
            procs.running["glewlwyd"].kill()
            procs.running["glewlwyd"].wait()
            down = time.monotonic()
            time.sleep(min(30, args.seconds * 0.05))
            procs.start("glewlwyd", ["glewlwyd", "-c", glewlwyd_conf])
            wait_until(lambda: request("GET", glewlwyd + "/config")[0] == 200, 20)
            outages.append(time.monotonic() - down)
        worker.join()
        alive = tollgate.poll() is None
        rss_end, fds_end = process_figures(tollgate.pid) if alive else (0, 0)
        counts = {(kind, status): value for kind, (by_status, *_rest) in result.items() for status, value in by_status.items()}
        unexpected = {key: value for key, value in counts.items() if key[1] not in ALLOWED.get(key[0], set())}
        total = sum(counts.values())
        rate = sum(r[1] for r in result.values())
        growth = (rss_end - rss_start) / rss_start * 100 if rss_start else 0
        lines = ["", "## Soak, %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "",
                 "`bench/soak.sh`: %d s at %.0f req/s (%.0f%% of the %.0f req/s the same mix reached flat out), %d connections; "
                 "Glewlwyd killed (SIGKILL) and restarted twice (down %s s)." % (
                     args.seconds, rate, rate / capacity * 100, capacity, connections,
                     " and ".join("%.0f" % o for o in outages)), "",
                 "| class | status | requests |", "|---|---|---|"]
        for (kind, status), value in sorted(counts.items()):
            lines.append("| %s | %d | %d |" % (kind, status, value))
        lines += ["", "- requests: %d; latency p50/p99 by class (ms): %s" % (total, ", ".join(
                      "%s %.1f/%.1f" % (kind, r[3], r[4]) for kind, r in result.items())),
                  "- socket errors by class: %s" % "; ".join("%s %s" % (kind, r[2]) for kind, r in result.items()),
                  "- unexpected statuses (anything but the documented 200/401/503 per class, e.g. a 500): %s" % (unexpected or "none"),
                  "- RSS %.1f MB after the first minute, %.1f MB at the end (%+.1f%%); open fds %d and %d" % (
                      rss_start / 1e6, rss_end / 1e6, growth, fds_start, fds_end),
                  "- Tollgate %s" % ("alive at the end: 0 crashes" if alive else "DIED"), ""]
        report = "\n".join(lines)
        print(report)
        if args.record:
            path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "BENCHMARKS.md")
            with open(path) as existing:
                text = existing.read()
            marker = text.find("\n## ")
            with open(path, "w") as out:
                out.write(text[:marker] + report + text[marker:] if marker >= 0 else text + report)
        ok = alive and not unexpected and growth < 5 and fds_end <= fds_start + 50
        if not ok:
            raise SystemExit("soak: FAILED")
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
