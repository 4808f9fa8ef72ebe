"""Tollgate authorization filter for Orthanc 1.10+ (Python plugin, standard library only).

Orthanc 1.10 (Debian 12) has no authorization plugin. This filter gives it the same decision
model: every HTTP request Orthanc receives (REST, Explorer, DICOMweb) is put to Tollgate's
POST /orthanc/authorize, which applies the authorization plugin's method + URI -> permission
table, then the user's profile (roles from the token), then share tokens for the resource.
Answers are cached in process for the `validity` Tollgate returns. Any error -- Tollgate down,
slow, an odd answer -- denies the request (Orthanc then answers 403).

Orthanc configuration:
    "Plugins": ["/usr/lib/orthanc/libOrthancPython.so.4.0", ...],
    "PythonScript": "/etc/orthanc/tollgate_filter.py",
    "AuthenticationEnabled": false,    # Orthanc's own Basic auth would refuse bearer tokens first
    "RemoteAccessAllowed": true,       # only for remote clients: Tollgate now guards every request
    "Tollgate": {
        "Url": "http://127.0.0.1:8080",        # TOLLGATE_URL in the environment overrides it
        "Username": "orthanc",                 # Tollgate's orthanc.webservice_username ...
        "Password": "...",                     # ... and webservice_password (TOLLGATE_PASSWORD overrides)
        "TimeoutSeconds": 2,
        "TokenHttpHeaders": ["Authorization"], # where tokens are looked for, as the plugin's options
        "TokenGetArguments": ["token"],        # share links carry ?token=...
        "UncheckedUris": [],                   # GET only; exact, or a prefix when ending in '*'
        "ServerId": null                       # the plugin's WebServiceIdentifier, for share tokens
    }
"""

import base64
import hashlib
import json
import os
import re
import threading
import time
import urllib.request

try:
    import orthanc  # provided by Orthanc's Python plugin
except ImportError:  # imported outside Orthanc (tests)
    orthanc = None

METHODS = {1: "get", 2: "post", 3: "put", 4: "delete"}
MAX_CACHE_ENTRIES = 10000
RESOURCE = re.compile(r"^/(patients|studies|series|instances)/([a-f0-9-]+)(/.*)?$")


class TollgateFilter:
    def __init__(self, url, timeout=2.0, unchecked=(), username=None, password=None, token_headers=("Authorization",),
                 token_arguments=("token",), server_id=None, rest_get=None, clock=time.monotonic):
        self.endpoint = url.rstrip("/") + "/orthanc/authorize"
        self.timeout = float(timeout)
        self.exact = {u for u in unchecked if not u.endswith("*")}
        self.prefixes = tuple(u[:-1] for u in unchecked if u.endswith("*"))
        self.basic = None
        if username is not None and password is not None:
            self.basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.token_headers = [h.lower() for h in token_headers]
        self.token_arguments = list(token_arguments)
        self.server_id = server_id
        self.rest_get = rest_get
        self.clock = clock
        self.cache = {}
        self.parents = {}
        self.lock = threading.Lock()

    def allows(self, uri, method, ip, headers, get=None):
        """Strictly True or False; never raises."""
        try:
            return self._allows(uri, method, headers or {}, get or {}) is True
        except Exception as error:  # fail closed
            log_warning("tollgate filter: request denied, %s" % type(error).__name__)
            return False

    def _allows(self, uri, method, headers, get):
        verb = METHODS.get(method)
        if verb is None:
            return False
        if verb == "get" and (uri in self.exact or (self.prefixes and uri.startswith(self.prefixes))):
            return True
        lowered = {k.lower(): v for k, v in headers.items()}
        tokens = [lowered[h] for h in self.token_headers if lowered.get(h)]
        tokens += [get[a] for a in self.token_arguments if get.get(a)]
        key = hashlib.sha256("\0".join([verb, uri, json.dumps(get, sort_keys=True)] + tokens).encode()).hexdigest()
        now = self.clock()
        with self.lock:
            cached = self.cache.get(key)
        if cached is not None and cached[1] > now:
            if not cached[0]:
                log_denial(verb, uri, cached[2])
            return cached[0]
        body = {"method": verb, "uri": uri, "get": get, "tokens": tokens, "server-id": self.server_id}
        granted, validity, reason = self._ask(body)
        if not granted and tokens:
            # A share token names a study; a series or instance URI is checked through its parents.
            chain = self._parents(uri)
            if chain:
                body["resources"] = chain
                granted, validity, reason = self._ask(body)
        if validity > 0:
            with self.lock:
                if len(self.cache) >= MAX_CACHE_ENTRIES:
                    self._evict(now)
                self.cache[key] = (granted, now + validity, reason)
        if not granted:
            log_denial(verb, uri, reason)
        return granted

    def _ask(self, body):
        request = urllib.request.Request(self.endpoint, data=json.dumps(body).encode(), method="POST",
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
        reason = answer.get("reason") if isinstance(answer.get("reason"), str) else "no reason given"
        return granted, max(0, min(validity, 3600)), reason

    def _parents(self, uri):
        """The resource's ancestors up to its study, with the study's StudyInstanceUID, from Orthanc itself."""
        match = RESOURCE.match(uri)
        if match is None or self.rest_get is None or match.group(1) == "patients":
            return []
        level = {"studies": "study", "series": "series", "instances": "instance"}[match.group(1)]
        with self.lock:
            known = self.parents.get((match.group(1), match.group(2)))
        if known is not None:
            return known
        chain, resource = [], match.group(2)
        if level == "instance":
            resource = self.rest_get("/instances/" + resource)["ParentSeries"]
            chain.append({"level": "series", "orthanc-id": resource})
            level = "series"
        if level == "series":
            resource = self.rest_get("/series/" + resource)["ParentStudy"]
        study = self.rest_get("/studies/" + resource)
        chain.append({"level": "study", "orthanc-id": resource, "dicom-uid": study.get("MainDicomTags", {}).get("StudyInstanceUID")})
        with self.lock:
            if len(self.parents) >= MAX_CACHE_ENTRIES:
                self.parents.clear()
            self.parents[(match.group(1), match.group(2))] = chain
        return chain

    def _evict(self, now):
        for key in [k for k, (_, until, _) in self.cache.items() if until <= now]:
            del self.cache[key]
        while len(self.cache) >= MAX_CACHE_ENTRIES:
            del self.cache[next(iter(self.cache))]


def log_warning(message):
    if orthanc is not None:
        orthanc.LogWarning(message)


def printable(text, limit):
    return "".join(c for c in str(text) if " " <= c <= "~")[:limit]


def log_denial(verb, uri, reason):
    """One info line per denied request: method, path (Orthanc hands the filter no query, so no
    ?token=) and Tollgate's reason; never a token."""
    if orthanc is not None:
        orthanc.LogInfo("tollgate filter: denied %s %s: %s" % (verb.upper(), printable(uri, 200), printable(reason, 200)))


def orthanc_rest_get(path):
    return json.loads(orthanc.RestApiGet(path))


def from_orthanc_configuration():
    settings = json.loads(orthanc.GetConfiguration()).get("Tollgate", {})
    url = os.environ.get("TOLLGATE_URL") or settings.get("Url", "http://127.0.0.1:8080")
    return TollgateFilter(
        url,
        timeout=settings.get("TimeoutSeconds", 2),
        unchecked=settings.get("UncheckedUris", []),
        username=settings.get("Username"),
        password=os.environ.get("TOLLGATE_PASSWORD") or settings.get("Password"),
        token_headers=settings.get("TokenHttpHeaders", ["Authorization"]),
        token_arguments=settings.get("TokenGetArguments", ["token"]),
        server_id=settings.get("ServerId"),
        rest_get=orthanc_rest_get,
    )


if orthanc is not None:
    _filter = from_orthanc_configuration()

    def _incoming(uri, **request):
        return _filter.allows(uri, request.get("method"), request.get("ip"), request.get("headers"), request.get("get"))

    orthanc.RegisterIncomingHttpRequestFilter(_incoming)
    orthanc.LogWarning("tollgate filter: every request is checked by %s" % _filter.endpoint)
