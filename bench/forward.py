#!/usr/bin/env python3
"""Issue 15's rows, side by side on loopback (called by bench/forward.sh):

- who carries the bytes to a DICOMweb peer: nginx `proxy_pass` straight (a static header), nginx
  asking Tollgate's `/auth/outbound/{server}` for the token (`auth_request`), Tollgate `/proxy`;
  small answers (`wrk -t1 -c32`) and a 200 MB download (curl, one stream);
- `/auth` with 20 forward-auth rules (the request matches the last one) against no rules, and,
  with `--baseline BIN`, the same 20 rules on another build (the cost of a change to the checks).

Every scenario runs interleaved in rounds; medians and the spread of rounds are printed as
Markdown for BENCHMARKS.md."""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib"))
from loopback import Processes, request, wait_until  # noqa: E402
from loopback import nginx_conf as loopback_nginx_conf  # noqa: E402

PORT = dict(upstream=18801, nginx_straight=18802, nginx_inject=18803, tg=18804, tg_rules=18805, tg_base=18806)
API_KEY = "bench-forward-api-key-0123456789"
LARGE = 200 * 1024 * 1024


def nginx_conf(work):
    d = os.path.join(work, "nginx")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "large.bin"), "wb") as out:
        out.write(os.urandom(1 << 20) * (LARGE >> 20))
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as out:
        out.write(loopback_nginx_conf(d, """  upstream peer {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  upstream tollgate {{ server 127.0.0.1:{tg}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{upstream};
    location = /dicom-web/studies {{ return 200 "x"; }}
    location = /dicom-web/large.bin {{ alias {d}/large.bin; }}
  }}
  server {{
    listen 127.0.0.1:{nginx_straight};
    location /dicom-web/ {{
      proxy_pass http://peer; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer a-static-token-of-the-usual-length-0123456789abcdef";
    }}
  }}
  server {{
    listen 127.0.0.1:{nginx_inject};
    location = /_token {{
      internal;
      proxy_pass http://tollgate/auth/outbound/bench; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_pass_request_body off; proxy_set_header Content-Length "";
      proxy_set_header X-API-Key "{key}";
    }}
    location /dicom-web/ {{
      auth_request /_token;
      auth_request_set $peer_authorization $upstream_http_x_upstream_authorization;
      proxy_set_header Authorization $peer_authorization;
      proxy_pass http://peer; proxy_http_version 1.1; proxy_set_header Connection "";
    }}
  }}
""".format(d=d, key=API_KEY, **PORT)))
    return conf


def tollgate_config(repo, port, rules):
    with open(os.path.join(repo, "config.yaml")) as shipped:
        text = shipped.read()
    text += """
outbound:
  servers:
    bench:
      url: http://127.0.0.1:%d/dicom-web/
      token_endpoint: http://127.0.0.1:%d/dev-issuer/token
      client_id: tollgate-dev
      client_secret: tollgate-dev-secret
admin:
  auth_mode: api_key
  api_keys: ["%s"]
""" % (PORT["upstream"], port, API_KEY)
    if rules:
        # 19 rules the request does not meet (wrong path or method), then the one it matches.
        lines = ["forward_auth:", "  rules:"]
        for n in range(19):
            lines.append('    - {name: r%d, methods: [POST, PUT], path: "^/area-%d/(studies|series)/[0-9.]+$", scopes: [write]}' % (n, n))
        lines.append('    - {name: dicomweb, methods: [GET, HEAD], path: "^/dicom-web/", scopes: [read]}')
        text += "\n".join(lines) + "\n"
    return text


def wrk(url, seconds, headers):
    argv = ["wrk", "-t1", "-c32", "-d%ds" % seconds, "--latency"]
    for header in headers:
        argv += ["-H", header]
    out = subprocess.run(argv + [url], capture_output=True, text=True, timeout=seconds * 4 + 30).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError("wrk %s: %s" % (url, out))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def cpu_seconds(pid):
    """User + system CPU of a process so far (its threads included)."""
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_cpu(url, seconds, headers, pid):
    """(req/s, server CPU µs per request): throughput moves ±20% a round on a shared 2-core
    machine; the server's own CPU per request is the steadier measure."""
    before = cpu_seconds(pid)
    argv = ["wrk", "-t1", "-c32", "-d%ds" % seconds]
    for header in headers:
        argv += ["-H", header]
    out = subprocess.run(argv + [url], capture_output=True, text=True, timeout=seconds * 4 + 30).stdout
    used = cpu_seconds(pid) - before
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError("wrk %s: %s" % (url, out))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), used * 1e6 / count


def download(url, headers):
    argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}"]
    for header in headers:
        argv += ["-H", header]
    code, size, seconds = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout.split()
    if code != "200" or int(size) != LARGE:
        raise RuntimeError("download %s: %s %s" % (url, code, size))
    return LARGE / float(seconds) / 1e9


def spread(values, fmt):
    return "%s (%s–%s)" % (fmt % statistics.median(values), fmt % min(values), fmt % max(values))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tollgate", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--only", choices=["proxy", "rules"], help="run one of the two tables")
    parser.add_argument("--baseline", help="another tollgate binary: its /auth with the same 20 rules and its /proxy are rows of both tables")
    args = parser.parse_args()
    procs = Processes(args.work)
    try:
        procs.start("nginx", ["nginx", "-c", nginx_conf(args.work)])
        contenders = [("tg", False, args.tollgate), ("tg_rules", True, args.tollgate)]
        if args.baseline:
            contenders.append(("tg_base", True, args.baseline))
        for name, rules, binary in contenders:
            path = os.path.join(args.work, name + ".yaml")
            with open(path, "w") as out:
                out.write(tollgate_config(args.repo, PORT[name], rules))
            procs.start(name, [binary, "serve", "--config", path],
                        env={"TOLLGATE_PORT": str(PORT[name]), "TOLLGATE_DATA_DIR": os.path.join(args.work, name + "-data")})
        key = "X-API-Key: " + API_KEY
        urls = {name: "http://127.0.0.1:%d%s" % (PORT[port], path) for name, port, path in [
            ("nginx straight", "nginx_straight", "/dicom-web/"), ("nginx + Tollgate token injection", "nginx_inject", "/dicom-web/"),
            ("Tollgate /proxy", "tg", "/proxy/bench/")]}
        headers = {"nginx straight": [], "nginx + Tollgate token injection": [], "Tollgate /proxy": [key]}
        servers = {"Tollgate /proxy": "tg"}
        if args.baseline:
            urls["Tollgate /proxy, baseline build"] = "http://127.0.0.1:%d/proxy/bench/" % PORT["tg_base"]
            headers["Tollgate /proxy, baseline build"] = [key]
            servers["Tollgate /proxy, baseline build"] = "tg_base"
        ok = wait_until(lambda: all(request("GET", urls[n] + "studies", headers=dict(h.split(": ", 1) for h in headers[n]))[0] == 200
                                    for n in urls), 30)
        if not ok:
            raise RuntimeError("a contender did not answer 200")
        if not all(wait_until(lambda: request("GET", "http://127.0.0.1:%d/ready" % PORT[name])[0] == 200, 30) for name, _, _ in contenders):
            raise RuntimeError("a Tollgate did not become ready")
        token = {}
        for name, _, _ in contenders:
            _, _, body = request("POST", "http://127.0.0.1:%d/dev-issuer/token" % PORT[name], body=b"grant_type=client_credentials&scope=read",
                                 headers={"Content-Type": "application/x-www-form-urlencoded",
                                          "Authorization": "Basic dG9sbGdhdGUtZGV2OnRvbGxnYXRlLWRldi1zZWNyZXQ="})
            token[name] = re.search(r'"access_token":"([^"]+)"', body.decode()).group(1)
        auth = {"/auth, no rules": ("tg", []), "/auth, 20 rules (last one matches)": ("tg_rules", [])}
        if args.baseline:
            auth["/auth, 20 rules, baseline build"] = ("tg_base", [])
        auth_url = lambda port_name: "http://127.0.0.1:%d/auth" % PORT[port_name]  # noqa: E731
        auth_headers = lambda port_name: ["Authorization: Bearer " + token[port_name], "X-Original-Method: GET",  # noqa: E731
                                          "X-Original-URI: /dicom-web/studies/1.2.3/series?limit=10"]
        small = {name: [] for name in urls}
        small_cpu = {name: [] for name in servers}
        large = {name: [] for name in urls}
        rules = {name: [] for name in auth}
        rules_cpu = {name: [] for name in auth}
        for name in urls:  # warm-up
            wrk(urls[name] + "studies", 2, headers[name])
        for name, (port_name, _) in auth.items():
            wrk(auth_url(port_name), 2, auth_headers(port_name))
        if args.only == "rules":
            urls = {}
        if args.only == "proxy":
            auth = {}
        for round_number in range(1, args.rounds + 1):
            for name in (list(urls) if round_number % 2 else list(reversed(list(urls)))):
                if name in servers:
                    rate, cpu = wrk_cpu(urls[name] + "studies", args.seconds, headers[name], procs.running[servers[name]].pid)
                    small[name].append(rate)
                    small_cpu[name].append(cpu)
                else:
                    small[name].append(wrk(urls[name] + "studies", args.seconds, headers[name]))
                large[name].append(download(urls[name] + "large.bin", headers[name]))
                print("round %d %-34s %8.0f req/s  %.2f GB/s" % (round_number, name, small[name][-1], large[name][-1]), flush=True)
            # ABBA order: drift within a round (frequency, the previous scenario's sockets) cancels out.
            for name, (port_name, _) in (list(auth.items()) if round_number % 2 else list(reversed(auth.items()))):
                rate, cpu = wrk_cpu(auth_url(port_name), args.seconds, auth_headers(port_name), procs.running[port_name].pid)
                rules[name].append(rate)
                rules_cpu[name].append(cpu)
                print("round %d %-34s %8.0f req/s  %.1f µs CPU/request" % (round_number, name, rate, cpu), flush=True)
        lines = []
        if urls:
            base = statistics.median(small["nginx straight"])
            lines += ["### Who carries the bytes (`wrk -t1 -c32`, 1-byte answer; 200 MB download, one curl stream)", "",
                      "| path | req/s, median (rounds) | × nginx straight | 200 MB download, GB/s |", "|---|---|---|---|"]
            for name in urls:
                lines.append("| %s | %s | %.2f× | %s |" % (name, spread(small[name], "%.0f"), statistics.median(small[name]) / base,
                                                           spread(large[name], "%.2f")))
            for name in servers:
                lines.append("\n%s: server CPU %s µs per request." % (name, spread(small_cpu[name], "%.1f")))
            if args.baseline:
                this, base_build = "Tollgate /proxy", "Tollgate /proxy, baseline build"
                lines += ["", "/proxy, this build against the baseline: %.3f× req/s, %.3f× server CPU per request." % (
                    statistics.median(small[this]) / statistics.median(small[base_build]),
                    statistics.median(small_cpu[this]) / statistics.median(small_cpu[base_build]))]
        if auth:
            none = statistics.median(rules["/auth, no rules"])
            none_cpu = statistics.median(rules_cpu["/auth, no rules"])
            lines += ["", "### Forward-auth rules (`wrk -t1 -c32`, cached token, nginx-style X-Original-* headers, ABBA order)", "",
                      "| target | req/s, median (rounds) | × no rules | server CPU µs/request, median (rounds) | CPU × no rules |",
                      "|---|---|---|---|---|"]
            for name in auth:
                lines.append("| %s | %s | %.2f× | %s | %.2f× |" % (
                    name, spread(rules[name], "%.0f"), statistics.median(rules[name]) / none,
                    spread(rules_cpu[name], "%.1f"), statistics.median(rules_cpu[name]) / none_cpu))
            if args.baseline:
                this, base = "/auth, 20 rules (last one matches)", "/auth, 20 rules, baseline build"
                lines += ["", "This build against the baseline, same 20 rules: %.3f× req/s, %.3f× server CPU per request." % (
                    statistics.median(rules[this]) / statistics.median(rules[base]),
                    statistics.median(rules_cpu[this]) / statistics.median(rules_cpu[base]))]
        print("\n" + "\n".join(lines))
    finally:
        procs.stop_all()


if __name__ == "__main__":
    main()
