#!/usr/bin/env python3
"""The admin panel in headless Chromium, against a real `berth serve` (scripts/browser-test.sh).

Signs in, adds a server through the form, waits for the live refresh to show it healthy, cordons it,
runs a placement dry run that shows an exclusion reason, and compares the cluster totals on the page
with GET /admin/cluster. Also: the session cookie's flags, a POST without a valid CSRF token is 403
and changes nothing, no page carries the token, and the browser reports no CSP violation.
A screenshot of each page goes to $BERTH_PANEL_ARTIFACTS. Any failure exits non-zero with a message.

Environment: BERTH_PANEL_URL, BERTH_PANEL_TOKEN, BERTH_PANEL_SERVER (name=host:port of an engine
that is not registered yet), BERTH_PANEL_ARTIFACTS.
"""
import http.client
import json
import os
import re
import sys
import time
import urllib.parse


def fail(message):
    print(f"panel_test: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as error:
    fail(f"selenium is not installed ({error}): scripts/browser-test.sh installs it into .local/browser-venv")


def env(name):
    value = os.environ.get(name, "")
    if not value:
        fail(f"{name} is not set: run this through scripts/browser-test.sh")
    return value


BASE = env("BERTH_PANEL_URL").rstrip("/")
TOKEN = env("BERTH_PANEL_TOKEN")
ARTIFACTS = env("BERTH_PANEL_ARTIFACTS")
SERVER_NAME, _, SERVER_ADDRESS = env("BERTH_PANEL_SERVER").partition("=")
SERVER_HOST, _, SERVER_PORT = SERVER_ADDRESS.rpartition(":")
if not (SERVER_NAME and SERVER_HOST and SERVER_PORT.isdigit()):
    fail("BERTH_PANEL_SERVER must be name=host:port")
CHROMIUM = os.environ.get("BERTH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BERTH_CHROMEDRIVER", "/usr/bin/chromedriver")
for path, package in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")]:
    if not os.access(path, os.X_OK):
        fail(f"{path} is missing: install Debian's {package} (scripts/deps.sh does)")
os.makedirs(ARTIFACTS, exist_ok=True)

STARTED = time.monotonic()
SHOTS = []
# Workspaces to delete if the test stops before it does: (id, tenant key).
CLEANUP = []


# --- plain HTTP, for what a browser hides (headers, a forged POST) and for the JSON API -------------

def call(method, path, body=None, headers=None):
    """One request, no redirects followed: (status, headers, text)."""
    url = urllib.parse.urlsplit(BASE)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def admin_api(path):
    status, _, text = call("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
    if status != 200:
        fail(f"GET {path} with the admin token answered {status}: {text[:300]}")
    return json.loads(text)


def form(fields):
    return urllib.parse.urlencode(fields), {"Content-Type": "application/x-www-form-urlencoded"}


# --- the browser ------------------------------------------------------------------------------------

options = webdriver.ChromeOptions()
options.binary_location = CHROMIUM
for argument in ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,1000",
                 "--no-first-run", "--disable-extensions", "--lang=en-US"]:
    options.add_argument(argument)
if os.geteuid() == 0:
    # Chromium's sandbox cannot start as root.
    options.add_argument("--no-sandbox")
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
try:
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
except WebDriverException as error:
    fail(f"chromium did not start through chromedriver: {error.msg}")


def shot(name):
    """A screenshot of the whole page."""
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(1440, max(1000, min(int(height) + 40, 6000)))
    path = os.path.join(ARTIFACTS, f"{len(SHOTS) + 1:02d}-{name}.png")
    if not driver.save_screenshot(path):
        fail(f"could not write the screenshot {path}")
    driver.set_window_size(1440, 1000)
    SHOTS.append(path)


def wait(condition, what, timeout=30):
    begun = time.monotonic()

    def attempt(_):
        try:
            return condition()
        except StaleElementReferenceException:
            # The live refresh replaced the element under our feet: look again.
            return False
        except TimeoutException as error:
            # One WebDriver command timed out (the renderer was busy), not the wait: look again.
            print(f"panel_test: note: a browser command timed out while waiting for {what}: {error.msg}", file=sys.stderr)
            return False

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(attempt)
    except TimeoutException:
        fail(f"waited {timeout} s for {what} ({time.monotonic() - begun:.1f} s passed)")


def element(css, within=None):
    found = (within or driver).find_elements(By.CSS_SELECTOR, css)
    return found[0] if found else None


def must(css, what=None):
    found = element(css)
    if found is None:
        fail(f"{what or css} is not on {driver.current_url}")
    return found


def open_page(path):
    driver.get(BASE + path)
    if TOKEN in driver.page_source:
        fail(f"the admin token appears in the page {path}")


def fill(css, value):
    field = must(css)
    field.clear()
    field.send_keys(value)


def row(name):
    return element(f'tr[data-server-name="{name}"]')


def row_attribute(name, attribute):
    try:
        found = row(name)
        return found.get_attribute(attribute) if found is not None else None
    except StaleElementReferenceException:
        return None


def click(css):
    """Clicks, finding the element again if a live refresh replaced it in between."""
    for _ in range(5):
        try:
            must(css).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.1)
    fail(f"{css} kept being replaced before it could be clicked")


def step(name):
    print(f"ok - {name} ({time.monotonic() - STARTED:.1f} s)", flush=True)


def check(condition, message):
    if not condition:
        fail(message)


def compare_cluster():
    """The cluster figures on the page against GET /admin/cluster: (api, page figures, mismatches)."""
    api = admin_api("/admin/cluster")
    page = {}
    for kind, source in [("total", api["total"]), ("reserved", api["reserved"]), ("schedulable", api["schedulable_total"])]:
        for key in ["cpu", "memory_mb", "disk_gb", "workspaces"]:
            cell = element(f"#cluster-{kind}-{key}")
            check(cell is not None, f"#cluster-{kind}-{key} is not on the cluster page")
            page[(kind, key)] = (float(cell.get_attribute("data-value")), float(source[key]))
    servers_cell = float(must("#cluster-servers").get_attribute("data-value"))
    healthy_cell = float(must("#cluster-healthy").get_attribute("data-value"))
    mismatches = [f"{k[0]}.{k[1]}: page {v[0]} api {v[1]}" for k, v in page.items() if v[0] != v[1]]
    if servers_cell != api["servers"]:
        mismatches.append(f"servers: page {servers_cell} api {api['servers']}")
    if healthy_cell != api["servers_by_status"].get("healthy", 0):
        mismatches.append(f"healthy: page {healthy_cell} api {api['servers_by_status'].get('healthy')}")
    return api, page, mismatches


def run():
    # Without a session every page leads to the login page.
    open_page("/admin/ui/servers")
    wait(lambda: driver.current_url.endswith("/admin/ui/login"), "the redirect to the login page")
    status, headers, _ = call("GET", "/admin/ui/login")
    check(status == 200, f"GET /admin/ui/login answered {status}")
    csp = headers.get("Content-Security-Policy", "")
    check("default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp, f"the CSP header is {csp!r}")
    shot("login")
    step("pages redirect to the login page without a session; the CSP header is set")

    # A wrong token: refused with 401, and the token typed is not shown back.
    wrong = "not-the-token-" + TOKEN[:4]
    status, _, text = call("POST", "/admin/ui/login", *form({"token": wrong}))
    check(status == 401 and wrong not in text, f"a wrong token answered {status}")
    fill("#token", wrong)
    must("#login-submit").click()
    wait(lambda: element("#error") is not None, "the login error")
    check(driver.get_cookie("berth_admin_session") is None, "a wrong token got a session cookie")
    step("a wrong token is refused (401) and not echoed")

    # The session cookie as the server sets it, and as the browser keeps it.
    status, headers, _ = call("POST", "/admin/ui/login", *form({"token": TOKEN}))
    set_cookie = headers.get("Set-Cookie", "")
    check(status == 303, f"login answered {status}")
    for flag in ["berth_admin_session=", "HttpOnly", "SameSite=Strict", "Path=/admin/ui"]:
        check(flag in set_cookie, f"the session cookie lacks {flag}: {set_cookie.split(';')[1:]}")
    check(TOKEN not in set_cookie, "the cookie carries the token")
    fill("#token", TOKEN)
    must("#login-submit").click()
    wait(lambda: driver.current_url.endswith("/admin/ui/servers"), "the servers page after login")
    cookie = driver.get_cookie("berth_admin_session")
    check(cookie is not None, "the browser kept no session cookie")
    check(cookie.get("httpOnly") is True and cookie.get("sameSite") == "Strict", f"cookie flags in the browser: httpOnly={cookie.get('httpOnly')} sameSite={cookie.get('sameSite')}")
    check(driver.execute_script("return document.cookie").find("berth_admin_session") == -1, "page scripts can read the session cookie")
    session = {"Cookie": f"berth_admin_session={cookie['value']}"}
    step("login sets an HttpOnly, SameSite=Strict session cookie")

    # A POST without the form's CSRF token, or with a wrong one, is 403 and changes nothing.
    servers = admin_api("/admin/servers")["items"]
    check(servers, "no pre-registered servers to try a forged POST on")
    target = servers[0]
    for fields in [{}, {"csrf": "forged"}]:
        body, headers = form(fields)
        status, _, _ = call("POST", f"/admin/ui/servers/{target['id']}/cordon", body, {**headers, **session})
        check(status == 403, f"a cordon POST with csrf={fields.get('csrf')!r} answered {status}")
    body, headers = form({"name": "forged"})
    status, _, _ = call("POST", "/admin/ui/tenants", body, {**headers, **session})
    check(status == 403, f"a tenant create without CSRF answered {status}")
    after = {s["id"]: s for s in admin_api("/admin/servers")["items"]}
    check(after[target["id"]]["schedulable"] == "active", "the forged cordon changed the server")
    check(all(t["name"] != "forged" for t in admin_api("/admin/tenants")["items"]), "the forged create made a tenant")
    audit = admin_api("/admin/audit?actor=admin")["items"]
    check(not any(e["action"] == "server.cordon" for e in audit), "the forged cordon wrote an audit row")
    step("POSTs without a valid CSRF token are 403 and change nothing")

    # A bad name is refused beside the form, which keeps what was typed.
    check(row(SERVER_NAME) is None, f"{SERVER_NAME} is already registered: the test needs an engine that is not")
    fill("#server-name", "Bad Name!")
    fill("#server-host", "127.0.0.1")
    click("#add-server-submit")
    wait(lambda: element("#add-error") is not None, "the add form's validation error")
    check(must("#server-name").get_attribute("value") == "Bad Name!", "the form lost what was typed")
    step("a bad server name is refused beside the form")

    # Add an engine that does not answer, then the panel's own engine (ws-panel-1), through the form.
    fill("#server-name", "ws-panel-deaf")
    fill("#server-host", "127.0.0.1")
    fill("#server-port", "1")
    click("#add-server-submit")
    wait(lambda: "server-added-unreachable" in driver.current_url and row("ws-panel-deaf") is not None, "ws-panel-deaf in the table")
    fill("#server-name", SERVER_NAME)
    fill("#server-host", SERVER_HOST)
    fill("#server-port", SERVER_PORT)
    fill("#server-cpu", "2")
    fill("#server-memory", "2048")
    fill("#server-disk", "10")
    fill("#server-max-workspaces", "5")
    fill("#server-labels", '{"region": "panel", "note": "<script>alert(1)</script>"}')
    click("#add-server-submit")
    wait(lambda: "notice=server-added" in driver.current_url and row(SERVER_NAME) is not None, f"{SERVER_NAME} in the table after adding it")
    check(must("#notice").text.startswith("Server added and reached"), f"the notice says {must('#notice').text!r}")
    check("<script>alert(1)</script>" not in driver.page_source and "&lt;script&gt;" in driver.page_source, "a label was not escaped")
    # From here the page changes only through the live refresh: a reload would drop this mark.
    driver.execute_script("window.panelTestMark = 1; if (document.activeElement) { document.activeElement.blur(); }")
    step(f"{SERVER_NAME} and ws-panel-deaf added through the form (it was {row_attribute(SERVER_NAME, 'data-status')} at first)")

    # The live refresh shows the new server healthy and the deaf one with its error, and a change
    # made elsewhere (the JSON API) appears without a reload.
    wait(lambda: row_attribute(SERVER_NAME, "data-status") == "healthy", f"{SERVER_NAME} healthy in the table", timeout=30)
    wait(lambda: row("ws-panel-deaf") is not None and element('[data-field="last-error"]', row("ws-panel-deaf")) is not None,
         "ws-panel-deaf's last error in the table", timeout=30)
    other = servers[-1]
    status, _, text = call("POST", f"/admin/servers/{other['id']}/cordon", headers={"Authorization": f"Bearer {TOKEN}"})
    check(status == 200, f"cordoning {other['name']} through the API answered {status}: {text[:200]}")
    wait(lambda: row_attribute(other["name"], "data-schedulable") == "cordoned", f"{other['name']} cordoned by live refresh", timeout=15)
    status, _, _ = call("POST", f"/admin/servers/{other['id']}/uncordon", headers={"Authorization": f"Bearer {TOKEN}"})
    check(status == 200, f"uncordoning {other['name']} through the API answered {status}")
    wait(lambda: row_attribute(other["name"], "data-schedulable") == "active", f"{other['name']} active again by live refresh", timeout=15)
    check(driver.execute_script("return window.panelTestMark") == 1, "the page was reloaded instead of refreshed in place")
    check(element('[data-bar="observed"] .bar', row(SERVER_NAME)) is not None, "no observed-usage capacity bar for the healthy server")
    shot("servers")
    step(f"live refresh: {SERVER_NAME} turns healthy, ws-panel-deaf shows its last error, an API cordon appears without a reload")

    # Cordon it and see the state change.
    click(f'tr[data-server-name="{SERVER_NAME}"] button[data-action="cordon"]')
    wait(lambda: row_attribute(SERVER_NAME, "data-schedulable") == "cordoned", f"{SERVER_NAME} cordoned in the table")
    check(must("#notice").text.startswith("Server cordoned"), "no notice after cordoning")
    check(element(f'tr[data-server-name="{SERVER_NAME}"] button[data-action="uncordon"]') is not None, "no uncordon button")
    spare = next(s for s in admin_api("/admin/servers")["items"] if s["name"] == SERVER_NAME)
    check(spare["schedulable"] == "cordoned", f"the API says {spare['schedulable']}")
    step(f"{SERVER_NAME} cordoned from the table")

    # Its own page, with its workspaces.
    click(f'tr[data-server-name="{SERVER_NAME}"] a.server-link')
    wait(lambda: element("#server-detail") is not None, "the server's page")
    check(must("#server-detail").get_attribute("data-schedulable") == "cordoned", "the server page disagrees")
    shot("server")
    step("the server's page")

    # A dry run: the cordoned server and the servers without the label are excluded, with reasons.
    open_page("/admin/ui/placement")
    shot("placement-form")
    fill("#dry-cpu", "1")
    fill("#dry-memory", "256")
    fill("#dry-constraints", '{"region": "panel"}')
    must("#dry-run-submit").click()
    wait(lambda: element("#dry-run-result") is not None, "the dry run's result")
    lines = {r.get_attribute("data-server-name"): r for r in driver.find_elements(By.CSS_SELECTOR, "#dry-run-table tbody tr")}
    check(SERVER_NAME in lines and lines[SERVER_NAME].get_attribute("data-outcome") == "excluded", f"{SERVER_NAME} not excluded")
    check("cordoned" in lines[SERVER_NAME].text, f"{SERVER_NAME}'s reasons: {lines[SERVER_NAME].text!r}")
    others = [name for name in lines if name != SERVER_NAME and name != "ws-panel-deaf"]
    check(others and all("region" in lines[name].text for name in others), "the servers without the label show no region reason")
    check(element("#dry-run-failure") is not None and must("#dry-run-failure").get_attribute("data-code") == "insufficient_capacity",
          "the dry run does not say a create would fail")
    check(must("#dry-constraints").get_attribute("value") == '{"region": "panel"}', "the dry-run form lost its input")
    shot("placement")
    before = admin_api("/admin/cluster")["reserved"]
    check(before["workspaces"] == 0, "the dry run reserved something")
    step("the dry run shows each server's exclusion reason (cordoned, region)")

    # The cluster totals on the page match GET /admin/cluster (retried across a live refresh,
    # since health and so the placeable totals can move between the two reads).
    open_page("/admin/ui/cluster")
    deadline = time.monotonic() + 20
    while True:
        try:
            api, page, mismatches = compare_cluster()
        except StaleElementReferenceException:
            mismatches = ["the page changed while it was read"]
        if not mismatches:
            break
        if time.monotonic() > deadline:
            fail("the cluster totals on the page differ from /admin/cluster: " + "; ".join(mismatches))
        time.sleep(1)
    check(api["servers"] == len(servers) + 2, f"/admin/cluster counts {api['servers']} servers")
    shot("cluster")
    step(f"cluster totals match /admin/cluster ({api['servers']} servers, {page[('total', 'cpu')][0]:g} cores)")

    # Tenants and keys: create a tenant and issue a key through the panel; the secret is shown once.
    open_page("/admin/ui/tenants")
    fill("#tenant-name", "panel-tenant")
    fill("#tenant-max-workspaces", "3")
    click("#create-tenant-submit")
    wait(lambda: "tenant-created" in driver.current_url, "the tenant's page after creating it")
    tenant_path = f"/admin/ui/tenants/{must('[data-tenant-id]').get_attribute('data-tenant-id')}"
    click("#issue-key-submit")
    wait(lambda: element("#issued-secret") is not None, "the new key's secret")
    secret = must("#issued-secret").text
    check(secret.startswith("berth_"), "the issued key does not look like a key")
    shot("tenant")
    open_page(tenant_path)
    check(secret not in driver.page_source, "the key's secret is shown again")
    step("a tenant created and a key issued through the panel; the secret is shown once")

    # With that key, a workspace: the panel lists it on its server, and refuses to remove that server.
    status, _, text = call("POST", "/v1/workspaces?wait=running",
                           json.dumps({"name": "panel-ws", "image": "berth-busybox:latest", "resources": {"cpu": 0.5, "memory_mb": 64}}),
                           {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
    check(status == 201, f"creating a workspace with the new key answered {status}: {text[:300]}")
    workspace = json.loads(text)
    CLEANUP.append((workspace["id"], secret))
    host = workspace["server"]["name"]
    open_page("/admin/ui/workspaces")
    wait(lambda: element(f'[data-group-server="{host}"] tr[data-workspace-id="{workspace["id"]}"][data-status="running"]') is not None,
         f"panel-ws under {host} on the workspaces page")
    shot("workspaces")
    open_page("/admin/ui/servers")
    click(f'tr[data-server-name="{host}"] a.server-link')
    wait(lambda: element(f'#live tr[data-workspace-id="{workspace["id"]}"]') is not None, f"panel-ws on {host}'s page")
    click('#server-detail button[data-action="remove"]')
    WebDriverWait(driver, 5).until(lambda d: d.switch_to.alert).accept()
    wait(lambda: element("#remove-refused") is not None, f"the refusal to remove {host}")
    check("panel-ws" in must("#remove-refused").text, "the refusal does not name the workspace")
    check(any(s["name"] == host for s in admin_api("/admin/servers")["items"]), f"{host} was removed anyway")
    # That page answered a POST; its live region still refreshes from the server's own page.
    marked = must("#live").get_attribute("data-refreshed")
    wait(lambda: must("#live").get_attribute("data-refreshed") != marked, "a live refresh of the refusal page", timeout=10)
    check(must("#live-status").get_attribute("data-state") == "ok", f"the refresh failed: {must('#live-status').text!r}")
    check(element("#remove-refused") is not None, "the refresh dropped the refusal")
    shot("server-busy")
    status, _, _ = call("DELETE", f"/v1/workspaces/{workspace['id']}", headers={"Authorization": f"Bearer {secret}"})
    check(status == 204, f"deleting panel-ws answered {status}")
    CLEANUP.clear()
    step(f"panel-ws listed on {host}; removing {host} is refused while it holds a workspace")

    # Revoke the key; the audit log shows every change, never the secret.
    open_page(tenant_path)
    click('button[data-action="revoke"]')
    WebDriverWait(driver, 5).until(lambda d: d.switch_to.alert).accept()
    wait(lambda: "key-revoked" in driver.current_url, "the revocation")
    status, _, _ = call("GET", "/v1/workspaces", headers={"Authorization": f"Bearer {secret}"})
    check(status == 401, f"the revoked key still answers {status}")
    open_page("/admin/ui/tenants")
    shot("tenants")
    open_page("/admin/ui/audit")
    actions = [r.get_attribute("data-action") for r in driver.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr")]
    for action in ["server.add", "server.cordon", "tenant.create", "api_key.issue", "workspace.create", "api_key.revoke"]:
        check(action in actions, f"{action} is not in the audit log page ({actions[:12]})")
    check(secret not in driver.page_source, "the key's secret is in the audit log")
    shot("audit")
    Select(must('#audit-filter select[name="actor"]')).select_by_value("admin")
    fill('#audit-filter input[name="action"]', "server.cordon")
    click('#audit-filter button[type="submit"]')
    wait(lambda: "action=server.cordon" in driver.current_url, "the filtered audit log")
    actions = [r.get_attribute("data-action") for r in driver.find_elements(By.CSS_SELECTOR, "#audit-table tbody tr")]
    check(actions and set(actions) == {"server.cordon"}, f"the filter shows {actions}")
    Select(must('#audit-filter select[name="actor"]')).select_by_value("")
    must('#audit-filter input[name="action"]').clear()
    click('#audit-filter button[type="submit"]')
    wait(lambda: driver.current_url.endswith("/admin/ui/audit") and element("#audit-table") is not None, "the unfiltered audit log")
    step("the key revoked through the panel; the audit log page shows every change")

    # Remove the added servers (confirming the dialog), then sign out.
    open_page("/admin/ui/servers")
    for name in [SERVER_NAME, "ws-panel-deaf"]:
        click(f'tr[data-server-name="{name}"] button[data-action="remove"]')
        WebDriverWait(driver, 5).until(lambda d: d.switch_to.alert).accept()
        wait(lambda: "server-removed" in driver.current_url and row(name) is None, f"{name} removed")
    must("#logout").click()
    wait(lambda: driver.current_url.endswith("/admin/ui/login?notice=signed-out"), "the login page after signing out")
    check(driver.get_cookie("berth_admin_session") is None, "the session cookie outlived the logout")
    open_page("/admin/ui/cluster")
    wait(lambda: driver.current_url.endswith("/admin/ui/login"), "the login page once signed out")
    step("servers removed through the panel; logout ends the session")

    # Nothing the browser logged: no CSP violation, no script error.
    # The refusals this test asked for (a wrong token, a bad server name, removing a busy server)
    # are logged as failed loads; anything else is a problem.
    failed_load = " - Failed to load resource: the server responded with a status of "
    expected = [re.escape(f"{BASE}/admin/ui/login{failed_load}401"), re.escape(f"{BASE}/admin/ui/servers{failed_load}400"),
                re.escape(f"{BASE}/admin/ui/servers/") + "[0-9a-f-]{36}/remove" + re.escape(f"{failed_load}409")]
    problems = [entry["message"] for entry in driver.get_log("browser")
                if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
                and not any(re.match(pattern, entry["message"]) for pattern in expected)]
    check(not problems, "the browser reported: " + " | ".join(problems[:5]))
    step("no CSP violation or script error in the browser log")


try:
    run()
except SystemExit:
    try:
        driver.save_screenshot(os.path.join(ARTIFACTS, "failure.png"))
        print(f"panel_test: at {driver.current_url}; screenshot {os.path.join(ARTIFACTS, 'failure.png')}", file=sys.stderr)
    except WebDriverException:
        pass
    raise
except Exception as error:  # an unexpected failure still fails loudly, with where it happened
    try:
        driver.save_screenshot(os.path.join(ARTIFACTS, "failure.png"))
    except WebDriverException:
        pass
    fail(f"{type(error).__name__}: {error} (at {driver.current_url})")
finally:
    driver.quit()
    for workspace_id, key in CLEANUP:
        call("DELETE", f"/v1/workspaces/{workspace_id}", headers={"Authorization": f"Bearer {key}"})

print(f"panel_test: {len(SHOTS)} screenshots in {ARTIFACTS}; {time.monotonic() - STARTED:.1f} s")
print("1 passed, 0 failed")
