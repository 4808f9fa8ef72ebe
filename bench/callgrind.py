"""Instructions per request under `valgrind --tool=callgrind`, a count machine noise does not move.

`count(binary, config_text, work, ask, requests)` starts Tollgate under callgrind with
instrumentation off, lets `ask(port, n)` warm it up, counts only while `ask` sends `requests` and
then `3 × requests` identical requests (in two runs), and returns the difference over `2 ×
requests` per request: start-up and whatever else ran in the window cancel out. `ask(port, None)`
is called once first, for any set-up (a token to mint), and returns the function that asks n times."""

import os
import re
import signal
import subprocess

from loopback import free_port, request, wait_until  # noqa: F401  (request: for callers' set-up)


def run(binary, config_text, work, prepare, requests):
    port = free_port()
    config = os.path.join(work, "tg-%d.yaml" % port)
    with open(config, "w") as out:
        out.write(config_text.replace("{PORT}", str(port)))
    out_file = os.path.join(work, "callgrind.%d.out" % port)
    env = {**os.environ, "TOLLGATE_PORT": str(port), "TOLLGATE_DATA_DIR": os.path.join(work, "data-%d" % port),
           "TOLLGATE_GLOBAL_EXECUTOR": "nio"}
    log = open(os.path.join(work, "tg-%d.log" % port), "wb")
    process = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=" + out_file,
                                binary, "serve", "--config", config],
                               stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        if not wait_until(lambda: request("GET", "http://127.0.0.1:%d/ready" % port, timeout=30)[0] == 200, 600, interval=1):
            raise RuntimeError("tollgate under callgrind never became ready")
        ask = prepare(port)
        ask(200)
        subprocess.run(["callgrind_control", "--instr=on", str(process.pid)], check=True, capture_output=True)
        ask(requests)
        subprocess.run(["callgrind_control", "--instr=off", str(process.pid)], check=True, capture_output=True)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(600)
    with open(out_file) as result:
        return int(re.search(r"^totals: (\d+)", result.read(), re.M).group(1))


def per_request(binary, config_text, work, prepare, requests):
    """`prepare(port)` mints what it needs and returns `ask(n)`, which sends n requests on one connection."""
    # Valgrind 3.19 cannot read the Swift toolchain's DWARF 5: count on a copy without debug info.
    stripped = os.path.join(work, os.path.basename(binary) + ".%d.nodebug" % len(os.listdir(work)))
    subprocess.run(["strip", "--strip-debug", "-o", stripped, binary], check=True)
    low = run(stripped, config_text, work, prepare, requests)
    high = run(stripped, config_text, work, prepare, 3 * requests)
    return (high - low) / (2 * requests)
