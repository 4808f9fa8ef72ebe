"""The container image as built by scripts/build-image.sh (issue 33), run the way its config says:
its entrypoint, command, environment and user (uid 10001), on its own filesystem mounted read-only
(a private mount namespace and chroot stand in for a container runtime, which cannot run here),
with only the IdP's variables added. Against the suite's Glewlwyd:
- /ready 200, /auth 200 for a real token and 401 for a forged one;
- the image's HEALTHCHECK command exits 0;
- SIGTERM drains: /ready 503 at once, decisions still answered during the delay, exit 0."""

import json
import os
import signal
import subprocess
import time

from loopback import request, wait_until


def image_config(image_dir):
    with open(os.path.join(image_dir, "image.json")) as f:
        image = json.load(f)[0]
    config = image["Config"]
    health = (image.get("HealthCheck") or image.get("Healthcheck") or config.get("Healthcheck") or {}).get("Test") or []
    return config, health, image.get("Size", 0)


def in_image(rootfs, user, argv, env):
    """argv run in the image's filesystem, mounted read-only, as `user`, with only `env`."""
    script = ('mount --bind "$R" "$R" && mount --rbind /dev "$R/dev" && mount -t proc proc "$R/proc" '
              '&& mount -o remount,bind,ro "$R" && exec chroot --userspec="$U" "$R" /usr/bin/env -i "$@"')
    return ["unshare", "--mount", "--propagation", "private", "env", "R=" + rootfs, "U=" + user,
            "sh", "-c", script, "sh"] + ["%s=%s" % item for item in env.items()] + argv


def check_image(suite, procs, work, image_dir, glewlwyd, rs_secret, token, used_tokens):
    config, health, size = image_config(image_dir)
    rootfs = os.path.join(image_dir, "rootfs")
    env = dict(entry.split("=", 1) for entry in config.get("Env") or [])
    env.update({"TOLLGATE_ISSUER": glewlwyd + "/api/oidc", "TOLLGATE_INTROSPECTION_CLIENT_ID": "tollgate-rs",
                "TOLLGATE_INTROSPECTION_CLIENT_SECRET": rs_secret})
    user = config.get("User") or "0:0"
    argv = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    process = procs.start("image-tollgate", in_image(rootfs, user, argv, env))
    base = "http://127.0.0.1:8080"
    ready = wait_until(lambda: request("GET", base + "/ready")[0] == 200, 30)
    with open("/proc/%d/status" % process.pid) as status:
        uid = [line.split()[1] for line in status if line.startswith("Uid:")]
    suite.check("33i. the image runs as shipped (entrypoint %s, user %s, read-only root) and is ready against Glewlwyd; %d MB"
                % (argv[0], user, size // 1000000), ready and uid == [user.split(":")[0]] and process.poll() is None,
                "ready %s uid %s exit %s" % (ready, uid, process.poll()))

    reader = token()
    used_tokens.append(reader)
    allowed = request("GET", base + "/auth", headers={"Authorization": "Bearer " + reader})[0]
    forged = request("GET", base + "/auth", headers={"Authorization": "Bearer " + reader[:-8] + "AAAAAAAA"})[0]
    suite.check("33j. the image: /auth 200 for a Glewlwyd token, 401 for a forged one", (allowed, forged) == (200, 401), str((allowed, forged)))

    healthcheck = [part for part in health if part not in ("CMD", "CMD-SHELL")]
    checked = subprocess.run(in_image(rootfs, user, healthcheck, env), capture_output=True, text=True, timeout=30) if healthcheck else None
    suite.check("33k. the image's HEALTHCHECK (%s) exits 0" % " ".join(healthcheck), checked is not None and checked.returncode == 0,
                checked.stdout + checked.stderr if checked else "no HEALTHCHECK in the image config")

    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    draining = request("GET", base + "/ready")[0]
    served = request("GET", base + "/auth", headers={"Authorization": "Bearer " + reader})[0]
    try:
        code = process.wait(40)
    except subprocess.TimeoutExpired:
        code = None
    procs.running.pop("image-tollgate", None)
    suite.check("33l. the image drains at SIGTERM: /ready 503 at once, /auth still 200, then exit 0",
                (draining, served, code) == (503, 200, 0), str((draining, served, code)))
