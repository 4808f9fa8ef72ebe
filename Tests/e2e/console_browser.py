"""The web console in a real browser (issue 32): headless Chromium driven by Selenium signs in
through Glewlwyd's own login and consent pages, creates an authorization-code connection, presses
Connect, consents at Glewlwyd, lands on the result page and sees the connection completed; tests
it and deletes it. A person without the console's scope is refused with a page that says why, and
a form posted without the CSRF token is refused. Every page is saved as a screenshot under
Tests/e2e/out/ for a person to look at."""

import os
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from loopback import request, start_glewlwyd, wait_until

CONSOLE_SCOPE = "tollgate.console"
OPERATOR = ("operator", "operator-pa55word-e2e")
VIEWER = ("viewer", "viewer-pa55word-e2e")
CONSOLE_CLIENT = ("tollgate-console", "console-client-s3cret-e2e")
CONNECTION_CLIENT = ("tollgate-connect", "connect-client-s3cret-e2e")
# For the suite's leak check: none of these may appear in any log.
SECRETS = [OPERATOR[1], VIEWER[1], CONSOLE_CLIENT[1], CONNECTION_CLIENT[1]]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def tollgate_config(port, glewlwyd, work):
    base = "http://127.0.0.1:%d" % port
    return """server: {host: 127.0.0.1, port: %d}
log: {level: info, format: json}
inbound:
  issuers:
    - {name: glewlwyd, issuer: "%s/api/oidc", mode: jwt}
admin: {auth_mode: api_key, api_keys: ["console-e2e-api-key-0123456789"]}
registry:
  enabled: true
  sqlite: {path: "%s/console-registry.sqlite"}
  encryption: {dev_key_file: "%s/console-registry.key"}
  callback_base_url: %s
console:
  enabled: true
  base_url: %s
  oidc:
    issuer: "%s/api/oidc"
    client_id: %s
    client_secret: "%s"
    scopes: [openid, %s]
  required: {scopes: [%s]}
""" % (port, glewlwyd, work, work, base, base, glewlwyd, CONSOLE_CLIENT[0], CONSOLE_CLIENT[1], CONSOLE_SCOPE, CONSOLE_SCOPE)


def start(procs, work, tollgate, glewlwyd_port, tollgate_port):
    """Glewlwyd with its webapp, and a Tollgate with the console; Glewlwyd's URL."""
    base = "http://127.0.0.1:%d" % tollgate_port
    glewlwyd = start_glewlwyd(
        procs, os.path.join(work, "glewlwyd-console"), glewlwyd_port, [CONSOLE_SCOPE, "dicom.read"], [], 300,
        oidc_extra={"pkce-allowed": True, "name-claim": "mandatory"},
        code_clients=[(CONSOLE_CLIENT[0], CONSOLE_CLIENT[1], ["openid", CONSOLE_SCOPE], base + "/console/callback"),
                      (CONNECTION_CLIENT[0], CONNECTION_CLIENT[1], ["openid", "dicom.read"], base + "/oauth/callback/pacs-vna")],
        users=[(OPERATOR[0], OPERATOR[1], ["openid", CONSOLE_SCOPE, "dicom.read"]), (VIEWER[0], VIEWER[1], ["openid", "dicom.read"])],
        webapp=True, name="glewlwyd-console")
    path = os.path.join(work, "tollgate-console.yaml")
    with open(path, "w") as out:
        out.write(tollgate_config(tollgate_port, glewlwyd, work))
    procs.start("tollgate-console", [tollgate, "serve", "--config", path])
    wait_until(lambda: request("GET", base + "/ready")[0] == 200, 30)
    return glewlwyd


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--disable-gpu",
                     "--no-first-run", "--password-store=basic"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class Pages:
    def __init__(self, driver, suite):
        self.driver = driver
        self.suite = suite
        self.shots = 0
        os.makedirs(OUT, exist_ok=True)

    def wait(self, condition, seconds=20):
        # A page that navigates while it is read raises stale-element errors: read it again.
        return WebDriverWait(self.driver, seconds, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(condition)

    def shot(self, name):
        self.shots += 1
        self.driver.save_screenshot(os.path.join(OUT, "console-%02d-%s.png" % (self.shots, name)))

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def glewlwyd_login(self, user):
        """Glewlwyd's own login page: the username, the password, then the consent to the scopes."""
        self.wait(expected_conditions.presence_of_element_located((By.ID, "username")))
        self.driver.find_element(By.ID, "username").send_keys(user[0])
        self.driver.find_element(By.ID, "password").send_keys(user[1])
        self.shot("glewlwyd-login")
        self.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.consent()

    def consent(self):
        """Glewlwyd's consent page: tick every scope offered, 'Grant access', then 'Continue', until
        the browser is back at Tollgate (a client already granted goes straight through)."""
        deadline = time.monotonic() + 30
        shot = False
        while time.monotonic() < deadline:
            if self.driver.current_url.startswith(self.tollgate):
                return
            try:
                buttons = {(b.text or "").strip().lower(): b for b in self.driver.find_elements(By.TAG_NAME, "button") if b.is_displayed()}
                boxes = [box for box in self.driver.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
                         if box.is_displayed() and box.is_enabled() and not box.is_selected()]
                if boxes and "grant access" in buttons:
                    for box in boxes:
                        box.click()
                    if not shot:
                        self.shot("glewlwyd-consent")
                        shot = True
                    buttons["grant access"].click()
                elif "continue" in buttons and buttons["continue"].is_enabled():
                    buttons["continue"].click()
            except (StaleElementReferenceException, WebDriverException):
                pass
            time.sleep(0.5)
        self.shot("stuck")


def field(driver, flow, name):
    return driver.find_element(By.ID, "%s-%s" % (flow, name))


def check(suite, work, procs, tollgate, glewlwyd_port, tollgate_port):
    glewlwyd = start(procs, work, tollgate, glewlwyd_port, tollgate_port)
    base = "http://127.0.0.1:%d" % tollgate_port
    driver = browser()
    pages = Pages(driver, suite)
    pages.tollgate = base
    try:
        driver.get(base + "/console")
        pages.glewlwyd_login(OPERATOR)
        pages.wait(lambda d: d.current_url.startswith(base + "/console"))
        pages.shot("overview")
        suite.check("32a. browser: /console -> Glewlwyd's own login and consent pages -> back on the console's overview, signed in",
                    "Overview" in driver.title and "Signed in as operator" in pages.text(), "%s %s" % (driver.current_url, pages.text()[:300]))

        driver.find_element(By.LINK_TEXT, "Connections").click()
        pages.wait(lambda d: "Connections" in d.title)
        pages.shot("connections")
        flow = "authorization_code"
        driver.find_element(By.XPATH, "//summary[starts-with(normalize-space(.), 'Authorization code')]").click()
        values = {"connection_name": "pacs-vna", "name": "VNA <archive> & co", "client_id": CONNECTION_CLIENT[0],
                  "client_secret": CONNECTION_CLIENT[1], "token_url": glewlwyd + "/api/oidc/token",
                  "authorization_url": glewlwyd + "/api/oidc/auth", "issuer": glewlwyd + "/api/oidc", "scopes": "openid dicom.read"}
        for name, value in values.items():
            field(driver, flow, name).send_keys(value)
        pages.shot("create-form")
        field(driver, flow, "scopes").submit()
        pages.wait(lambda d: "pacs-vna" in d.title)
        pages.shot("connection-created")
        created = pages.text()
        suite.check("32b. browser: a code-flow connection made with the console's form (the API's own checks), its secret shown only as 'set'",
                    "pacs-vna was created" in created and "VNA <archive> & co" in created and CONNECTION_CLIENT[1] not in driver.page_source,
                    created[:400])

        driver.find_element(By.XPATH, "//button[normalize-space(.)='Connect']").click()
        pages.wait(lambda d: d.current_url.startswith(glewlwyd))
        pages.consent()
        pages.wait(lambda d: "/oauth/callback/pacs-vna" in d.current_url)
        pages.shot("connect-result")
        result = pages.text()
        driver.find_element(By.PARTIAL_LINK_TEXT, "Back to the connection").click()
        pages.wait(lambda d: "pacs-vna" in d.title)
        driver.find_element(By.LINK_TEXT, "Connections").click()
        pages.wait(lambda d: "Connections" in d.title)
        row = driver.find_element(By.XPATH, "//tr[th/a[normalize-space(.)='pacs-vna']]").text
        pages.shot("connections-completed")
        suite.check("32c. browser: Connect -> consent at Glewlwyd -> the result page -> the list shows the connection completed",
                    "Connected" in result and "completed" in row, "%s | %s" % (result[:200], row))

        driver.find_element(By.LINK_TEXT, "pacs-vna").click()
        pages.wait(lambda d: "pacs-vna" in d.title)
        driver.find_element(By.XPATH, "//button[normalize-space(.)='Test']").click()
        pages.wait(lambda d: "Test passed" in pages.text() or "Test failed" in pages.text())
        pages.shot("connection-tested")
        tested = pages.text()
        driver.find_element(By.PARTIAL_LINK_TEXT, "Delete").click()
        pages.wait(lambda d: "Delete pacs-vna" in d.title)
        pages.shot("delete-confirm")
        driver.find_element(By.XPATH, "//button[starts-with(normalize-space(.), 'Delete pacs-vna')]").click()
        pages.wait(lambda d: "was deleted" in pages.text())
        pages.shot("connection-deleted")
        gone = request("GET", base + "/oauth/connections/pacs-vna", headers={"X-API-Key": "console-e2e-api-key-0123456789"})[0]
        suite.check("32d. browser: Test shows the outcome and never the token; Delete, after its confirmation page, removes it",
                    "Test passed" in tested and "eyJ" not in driver.page_source and gone == 404, "%s | api %s" % (tested[:300], gone))

        driver.find_element(By.LINK_TEXT, "Orthanc").click()
        pages.wait(lambda d: "Orthanc" in d.title)
        pages.shot("orthanc")
        # A form whose CSRF token is taken out, as a cross-site page would post it.
        driver.find_element(By.LINK_TEXT, "Connections").click()
        pages.wait(lambda d: "Connections" in d.title)
        driver.execute_script("document.querySelectorAll('input[name=csrf]').forEach(function (e) { e.remove(); });")
        driver.find_element(By.XPATH, "//summary[starts-with(normalize-space(.), 'Client credentials')]").click()
        for name, value in {"connection_name": "csrf-probe", "client_id": "x", "client_secret": "y", "token_url": glewlwyd + "/api/oidc/token"}.items():
            field(driver, "client_credentials", name).send_keys(value)
        field(driver, "client_credentials", "token_url").submit()
        pages.wait(lambda d: "Form expired" in d.title)
        pages.shot("csrf-refused")
        probe = request("GET", base + "/oauth/connections/csrf-probe", headers={"X-API-Key": "console-e2e-api-key-0123456789"})[0]
        suite.check("32e. browser: a form posted without the session's CSRF token is refused (403 page) and changes nothing",
                    "not from your current session" in pages.text() and probe == 404, "%s api %s" % (pages.text()[:200], probe))

        driver.find_element(By.XPATH, "//button[normalize-space(.)='Sign out']").click()
        pages.wait(lambda d: "Signed out" in d.title)
        pages.shot("signed-out")
        driver.get(base + "/console")
        pages.wait(lambda d: not d.current_url.startswith(base + "/console") or "Overview" not in d.title)
    finally:
        driver.quit()

    # Someone the IdP knows, without the console's scope: refused, with a page that says why.
    driver = browser()
    pages = Pages(driver, suite)
    pages.tollgate = base
    pages.shots = 40
    try:
        driver.get(base + "/console")
        pages.glewlwyd_login(VIEWER)
        pages.wait(lambda d: d.current_url.startswith(base + "/console"))
        pages.shot("not-allowed")
        text = pages.text()
        cookies = [c["name"] for c in driver.get_cookies()]
        suite.check("32f. browser: a user without the console's scope signs in at Glewlwyd and gets the 403 page saying what is needed",
                    "Not allowed" in driver.title and "needs the scope " + CONSOLE_SCOPE in text and "tollgate-console" not in cookies,
                    "%s %s %s" % (driver.title, text[:300], cookies))
    finally:
        driver.quit()
