"""Tollgate bearer-token filter for Orthanc 1.10+ (Python plugin, standard library only).

Every HTTP request Orthanc receives (REST, Explorer, DICOMweb) is checked by Tollgate's
orthanc-authorization endpoint POST /tokens/validate. Decisions are cached in process for the
`validity` Tollgate returns (never longer). Any error -- Tollgate down, slow, an odd answer --
denies the request (Orthanc then answers 403).

Orthanc configuration:
    "Plugins": ["/usr/lib/orthanc/libOrthancPython.so.4.0", ...],
    "PythonScript": "/etc/orthanc/tollgate_filter.py",
    "AuthenticationEnabled": false,    # Orthanc's own Basic auth would refuse bearer tokens first
    "RemoteAccessAllowed": true,       # only for remote clients: Tollgate now guards every request
    "Tollgate": {
        "Url": "http://127.0.0.1:8080",        # TOLLGATE_URL in the environment overrides it
        "TimeoutSeconds": 2,
        "UncheckedUris": ["/app/explorer.html"],  # exact, or a prefix when ending in '*'
        "Username": null, "Password": null     # Basic credentials if Tollgate's orthanc.webservice_* are set
    }
"""

import base64
import hashlib
import json
import os
import threading
import time
import urllib.request

try:
    import orthanc  # provided by Orthanc's Python plugin
except ImportError:  # imported outside Orthanc (tests)
    orthanc = None

METHODS = {1: "get", 2: "post", 3: "put", 4: "delete"}
MAX_CACHE_ENTRIES = 10000


class TollgateFilter:
    def __init__(self, url, timeout=2.0, unchecked=(), username=None, password=None, clock=time.monotonic):
        self.endpoint = url.rstrip("/") + "/tokens/validate"
        self.timeout = float(timeout)
        self.exact = {u for u in unchecked if not u.endswith("*")}
        self.prefixes = tuple(u[:-1] for u in unchecked if u.endswith("*"))
        self.basic = None
        if username is not None and password is not None:
            self.basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.clock = clock
        self.cache = {}
        self.lock = threading.Lock()

    def allows(self, uri, method, ip, headers, get=None):
        """Strictly True or False; never raises."""
        try:
            return self._allows(uri, method, ip, headers or {}, get or {}) is True
        except Exception as error:  # fail closed
            log_warning("tollgate filter: request denied, %s" % type(error).__name__)
            return False

    def _allows(self, uri, method, ip, headers, get):
        if uri in self.exact or (self.prefixes and uri.startswith(self.prefixes)):
            return True
        verb = METHODS.get(method)
        authorization = headers.get("authorization")
        if verb is None or not authorization:
            return False
        # Tollgate decides per token and method at level "system", so that is the cache key.
        key = hashlib.sha256(f"{verb}\0{authorization}".encode()).hexdigest()
        now = self.clock()
        with self.lock:
            cached = self.cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        granted, validity = self._ask(verb, uri, ip, authorization, get)
        if validity > 0:
            with self.lock:
                if len(self.cache) >= MAX_CACHE_ENTRIES:
                    self._evict(now)
                self.cache[key] = (granted, now + validity)
        return granted

    def _ask(self, verb, uri, ip, authorization, get):
        body = json.dumps({
            "method": verb, "level": "system", "uri": uri, "ip": ip,
            "token-key": "Authorization", "token-value": authorization, "get": get,
        }).encode()
        request = urllib.request.Request(self.endpoint, data=body, method="POST",
                                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        if self.basic:
            request.add_header("Authorization", self.basic)
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if response.status != 200:
                raise ValueError("status %d" % response.status)
            answer = json.loads(response.read(65536))
        granted = answer.get("granted")
        validity = answer.get("validity", 0)
        if not isinstance(granted, bool) or not isinstance(validity, int) or isinstance(validity, bool):
            raise ValueError("unexpected answer")
        return granted, max(0, min(validity, 3600))

    def _evict(self, now):
        for key in [k for k, (_, until) in self.cache.items() if until <= now]:
            del self.cache[key]
        while len(self.cache) >= MAX_CACHE_ENTRIES:
            del self.cache[next(iter(self.cache))]


def log_warning(message):
    if orthanc is not None:
        orthanc.LogWarning(message)


def from_orthanc_configuration():
    settings = json.loads(orthanc.GetConfiguration()).get("Tollgate", {})
    url = os.environ.get("TOLLGATE_URL") or settings.get("Url", "http://127.0.0.1:8080")
    return TollgateFilter(
        url,
        timeout=settings.get("TimeoutSeconds", 2),
        unchecked=settings.get("UncheckedUris", []),
        username=settings.get("Username"),
        password=settings.get("Password"),
    )


if orthanc is not None:
    _filter = from_orthanc_configuration()

    def _incoming(uri, **request):
        return _filter.allows(uri, request.get("method"), request.get("ip"), request.get("headers"), request.get("get"))

    orthanc.RegisterIncomingHttpRequestFilter(_incoming)
    orthanc.LogWarning("tollgate filter: every request is checked by %s" % _filter.endpoint)
