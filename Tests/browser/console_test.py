#!/usr/bin/env python3
"""The district console in a real browser (Chromium through Selenium), against a running hub.

Run by Tests/IntegrationTests/ConsoleBrowserTests.swift, which starts `recordonce demo` and passes
HUB_URL and ADMIN_TOKEN. Every check compares what the console shows or did with what the
documented API says. SCREENSHOT_DIR (optional) receives overview.png, subscriptions.png,
matches.png and records.png taken at 1366x768. Exit status 0 only when every check passed.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

HUB = os.environ["HUB_URL"].rstrip("/")
TOKEN = os.environ["ADMIN_TOKEN"]
SHOTS = os.environ.get("SCREENSHOT_DIR")
CHECKS = []


def api(path, method="GET", body=None, token=TOKEN, query=None):
    url = HUB + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            is_json = response.headers.get("Content-Type", "").startswith("application/json")
            return response.status, (json.loads(text) if text and is_json else text), dict(response.headers)
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        try:
            return error.code, json.loads(text), dict(error.headers)
        except ValueError:
            return error.code, text, dict(error.headers)


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    CHECKS.append(what)
    print("ok  " + what, flush=True)


def eventually(read, what, timeout=45):
    """Polls read() -> (ok, detail) until ok or the timeout; fails with the last detail."""
    deadline = time.time() + timeout
    detail = None
    while True:
        try:
            ok, detail = read()
        except StaleElementReferenceException:
            # The live refresh replaced the element between finding and reading it: read again.
            ok, detail = False, "the page re-rendered while it was read"
        if ok:
            check(True, what)
            return
        if time.time() > deadline:
            raise AssertionError(f"{what}: {detail}")
        time.sleep(0.5)


def wait_for(driver, css, timeout=40):
    deadline = time.time() + timeout
    while True:
        found = driver.find_elements(By.CSS_SELECTOR, css)
        if found and found[0].is_displayed():
            return found[0]
        if time.time() > deadline:
            raise AssertionError(f"nothing matched {css} within {timeout} s on {driver.current_url}")
        time.sleep(0.2)


def go(driver, page):
    driver.get(HUB + "/console/#/" + page)
    wait_for(driver, f'#page[data-page="{page}"] .page-head h1')


def confirm_dialog(driver, values=None):
    wait_for(driver, "dialog[open] #dialog-confirm")
    for name, value in (values or {}).items():
        field = driver.find_element(By.ID, "dialog-" + name)
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            field.clear()
            field.send_keys(value)
    driver.find_element(By.ID, "dialog-confirm").click()


def shot(driver, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, name))


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1366,768",
                "--lang=zh-CN", "--force-device-scale-factor=1"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    # The page itself gets 1366x768 (a laptop screen), whatever the headless window's frame takes.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    return driver


def csp_violations(driver):
    return [e for e in driver.get_log("browser") if "Content Security Policy" in e.get("message", "") or "Refused to" in e.get("message", "")]


def main():
    # Security headers on console responses.
    for path in ["/console/", "/console/app.js", "/console/style.css"]:
        status, _, headers = api(path)
        lower = {k.lower(): v for k, v in headers.items()}
        check(status == 200, f"{path} is served")
        csp = lower.get("content-security-policy", "")
        check("script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp,
              f"{path} carries a strict Content-Security-Policy")
        check(lower.get("x-frame-options") == "DENY" and lower.get("referrer-policy") == "no-referrer", f"{path} forbids framing and referrers")
    check(api("/console/app.js")[2].get("Content-Type", "").startswith("text/javascript"), "modules are served as JavaScript")

    driver = browser()
    try:
        run(driver)
    finally:
        driver.quit()
    print(f"all {len(CHECKS)} checks passed", flush=True)


def run(driver):
    # Sign in.
    driver.get(HUB + "/console/")
    wait_for(driver, "#token-input").send_keys(TOKEN + Keys.ENTER)
    wait_for(driver, '#page[data-page="overview"][data-ready="true"]')
    check(driver.execute_script("return sessionStorage.getItem('recordonce.adminToken')") == TOKEN, "the token is kept in sessionStorage")

    # Overview: every count equals the API's.
    def overview_matches():
        _, stats, _ = api("/v1/stats/overview")
        shown = {}
        for el in driver.find_elements(By.CSS_SELECTOR, "[data-stat][data-value]"):
            shown[el.get_attribute("data-stat")] = el.get_attribute("data-value")
        expected = {"resource:" + r["resource"]: str(r["count"]) for r in stats["resources"]}
        expected.update({"change_head": str(stats["change_log"]["head"]), "open_rejects": str(stats["rejects"]["open"]),
                         "open_conflicts": str(stats["conflicts"]["open"]), "open_matches": str(stats["matches"]["open"]),
                         "subscriptions_active": str(stats["subscriptions"]["active"])})
        wrong = {k: (shown.get(k), v) for k, v in expected.items() if shown.get(k) != v}
        return not wrong, f"shown vs API: {wrong}"
    eventually(overview_matches, "the overview's counts equal /v1/stats/overview")

    # It refreshes by itself, without reloading the page.
    driver.execute_script("window.__sameDocument = true")
    first = driver.find_element(By.ID, "refreshed").text
    eventually(lambda: (driver.find_element(By.ID, "refreshed").text != first, "the overview's update time did not change"),
               "the overview refreshes live", timeout=30)
    check(driver.execute_script("return window.__sameDocument === true"), "the refresh did not reload the page")

    # ... and the API's own lists agree with those counts.
    _, stats, _ = api("/v1/stats/overview")
    open_rejects, after = 0, 0
    while True:
        _, page, _ = api("/v1/rejects", query={"status": "open", "after": after, "limit": 1000})
        open_rejects += len(page["rejects"])
        if len(page["rejects"]) < 1000:
            break
        after = page["next"]
    check(open_rejects == stats["rejects"]["open"], f"open rejects {open_rejects} by paging /v1/rejects equal the overview's")
    check(stats["resources"][0]["count"] > 0, "the demo departments' records are in")

    def departments_match():
        _, adapters, _ = api("/v1/adapters")
        wrong = []
        for a in adapters["adapters"]:
            row = driver.find_elements(By.CSS_SELECTOR, f'tr[data-adapter="{a["id"]}"] [data-field="records_in"]')
            shown = row[0].text.replace(",", "") if row else None
            if shown != str(a["counters"]["records_in"]):
                wrong.append((a["id"], shown, a["counters"]["records_in"]))
        return not wrong, f"records in, shown vs API: {wrong}"
    eventually(departments_match, "each department's records in equals /v1/adapters", timeout=60)

    # The district view, clicked down to a community.
    block = wait_for(driver, "svg.district g.block")
    street = block.get_attribute("data-code")
    block.click()
    cell = wait_for(driver, "svg.district g.cell")
    community = cell.get_attribute("data-code")
    cell.send_keys(Keys.ENTER)
    detail = wait_for(driver, f'dl.community[data-community="{community}"]')
    field = driver.find_element(By.CSS_SELECTOR, "[data-field-used]").get_attribute("data-field-used")
    _, divisions, _ = api("/v1/stats/divisions", query={"resource": "Person", "field": field})
    expected = next((d["records"] for d in divisions["divisions"] if d["code"] == community), 0)
    shown = detail.find_element(By.CSS_SELECTOR, '[data-field="records"]').text.replace(",", "")
    check(community.startswith(street[:9]) and shown == str(expected),
          f"community {community} of street {street}: {shown} residents by {field} shown, /v1/stats/divisions says {expected}")
    driver.find_element(By.ID, "district-back").click()
    wait_for(driver, "svg.district g.block")

    # Departments: pause from the console pauses the adapter.
    go(driver, "departments")
    adapter = "police-hukou"
    wait_for(driver, f'article[data-adapter="{adapter}"] button[data-action="pause"]').click()
    confirm_dialog(driver)
    wait_for(driver, f'article[data-adapter="{adapter}"] button[data-action="resume"]')
    _, status, _ = api(f"/v1/adapters/{adapter}")
    check(status["state"] == "paused", f"pausing {adapter} in the console paused it in the API")
    wait_for(driver, f'article[data-adapter="{adapter}"] button[data-action="resume"]').click()
    confirm_dialog(driver)
    wait_for(driver, f'article[data-adapter="{adapter}"] button[data-action="pause"]')
    check(api(f"/v1/adapters/{adapter}")[1]["state"] != "paused", f"resuming {adapter} in the console resumed it")

    rejects(driver)
    conflicts(driver)
    matches(driver)
    mappings(driver)
    subscriptions(driver)
    records(driver)

    # The overview once more, now with a subscription, for the guide's screenshot.
    go(driver, "overview")
    wait_for(driver, '#page[data-page="overview"][data-ready="true"] tr[data-subscription]')
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    shot(driver, "overview.png")

    # Keyboard only: Tab reaches the navigation with a visible focus ring, Enter opens a page.
    go(driver, "overview")
    driver.refresh()  # the keyboard starts at the top of a freshly loaded page
    wait_for(driver, '#page[data-page="overview"][data-ready="true"]')
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    for _ in range(12):
        if driver.execute_script("return document.activeElement.id") == "nav-audit":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    check(driver.execute_script("return document.activeElement.id") == "nav-audit", "Tab reaches the navigation")
    outline = driver.execute_script("const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]")
    check(outline[0] != "none" and outline[1] not in ("0px", ""), f"the focused link shows a focus ring ({outline})")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(driver, '#page[data-page="audit"] #audit-results')
    check(True, "Enter on a navigation link opens its page")

    # Every page, in both languages; then no request the CSP blocked, on any of them.
    for page in ["overview", "departments", "rejects", "conflicts", "matches", "mappings", "subscriptions", "records", "audit"]:
        go(driver, page)
        time.sleep(0.3)
    wait_for(driver, "#lang-switch").click()
    for page in ["overview", "audit", "matches"]:
        go(driver, page)
    check(driver.find_element(By.ID, "nav-overview").text == "Overview", "the switch shows English labels")
    check(driver.find_element(By.CSS_SELECTOR, '#page[data-page="matches"] .page-head h1').text == "Match review"
          and driver.find_element(By.CSS_SELECTOR, 'label[for="match-status"]').text == "Status", "match review shows English labels")
    wait_for(driver, "#lang-switch").click()
    violations = csp_violations(driver)
    check(not violations, f"no console page made a request the CSP blocked: {violations}")


def rejects(driver):
    # Two records with a wrong check character, pushed as the police register would.
    page = {"code": 0, "data": {"page": 1, "items": [
        {"GMSFHM": "110105194912310021", "XM": "测试甲", "XB": "2", "YHZGX": "子", "HH": "9", "DJJG": "x"},
        {"GMSFHM": "110105194912310031", "XM": "测试乙", "XB": "1", "YHZGX": "子", "HH": "9", "DJJG": "x"}]}}
    status, pushed, _ = api("/v1/ingest/police-hukou", "POST", page)
    check(status == 200 and pushed["totals"]["rejected"] == 2, f"two bad records pushed ({status})")
    _, listed, _ = api("/v1/rejects", query={"status": "open", "adapter": "police-hukou", "limit": 1000})
    rule = "citizen_id.check_character_mismatch"
    expected = sum(1 for r in listed["rejects"] if [i["rule"] for i in r["issues"] if i.get("severity", "error") == "error"] == [rule])
    go(driver, "rejects")
    row = wait_for(driver, f'tr[data-group="police-hukou · {rule}"]')
    count = row.find_elements(By.TAG_NAME, "td")[2].text.replace(",", "")
    check(count == str(expected) and expected >= 2, f"the Rejects page groups {count} rejects under {rule}, the API lists {expected}")
    row.find_element(By.CSS_SELECTOR, "button.link").click()
    detail = wait_for(driver, "#reject-detail table")
    check(rule in detail.text and "测试" not in detail.text, "a reject's problems are shown in full, without the record's values")
    row = wait_for(driver, f'tr[data-group="police-hukou · {rule}"]')
    row.find_element(By.CSS_SELECTOR, 'button[data-action="retry-group"]').click()
    confirm_dialog(driver)
    notice = wait_for(driver, ".notice")
    check(f"{expected}" in notice.text and "0" in notice.text, f"retrying the group reports what the API answered: {notice.text}")


def find_event(wanted, wait_seconds=90):
    """The first change event that `wanted` accepts, looked for through the whole feed, not its first
    page: the demo departments deliver on their own schedules, so which events come first depends on
    the machine's load. While none is there yet, waits for more to arrive."""
    deadline = time.time() + wait_seconds
    after = 0
    while True:
        _, page, _ = api("/v1/changes", query={"after": after, "limit": 1000})
        found = next((e for e in page["events"] if wanted(e)), None)
        if found is not None:
            return found
        if page["events"]:
            after = page["next"]
        elif time.time() > deadline:
            return None
        else:
            time.sleep(1)


def conflicts(driver):
    _, page, _ = api("/v1/conflicts", query={"status": "open", "limit": 1})
    check(len(page["conflicts"]) > 0, "the demo district has an open conflict to resolve")
    conflict = page["conflicts"][0]
    go(driver, "conflicts")
    wait_for(driver, f'tr[data-conflict="{conflict["id"]}"] button[data-action="resolve"]').click()
    reason = "console test: police register is authoritative"
    confirm_dialog(driver, {"decision": "keep_golden", "reason": reason})
    wait_for(driver, f'tr[data-resolved="{conflict["id"]}"]')
    _, resolved, _ = api(f"/v1/conflicts/{conflict['id']}")
    check(resolved["status"] == "resolved" and resolved["resolution"]["reason"] == reason
          and resolved["resolution"]["decision"] == "keep_golden", f"conflict {conflict['id']} resolved in the console is resolved in the API")


def matches(driver):
    """A keyless visit note for a known resident (a new phone number) and one for nobody the hub knows, pushed
    through the matchable community-visits mapping: the console links the first to its candidate, rejects the
    second (by keyboard), and the API says both cases are decided."""
    declaration = {"id": "community-visits", "department": "civil-affairs", "mapping": "community-visits.json5",
                   "token": {"sha256": "0" * 64}}
    status, answer, _ = api("/v1/adapters", "POST", declaration)
    check(status in (201, 409), f"the community-visits adapter is registered over the API ({status} {answer if status != 201 else ''})")
    person = find_event(lambda e: e["resource"] == "Person" and all(
        isinstance(e.get("record", {}).get(f), str) for f in ["name", "date_of_birth", "sex", "mobile"]))
    check(person is not None, "the demo district has a resident with name, birth date, sex and mobile")
    record = person["record"]
    phone = "13000000001" if record["mobile"] != "13000000001" else "13000000002"
    notes = [{"visit_id": "console-v1", "name": record["name"], "sex": record["sex"], "birth_date": record["date_of_birth"],
              "phone": phone, "address": "控制台测试路1号"},
             {"visit_id": "console-v2", "name": "控制台无此人", "sex": "2", "birth_date": "1901-01-01", "address": "控制台测试路2号"}]
    status, pushed, _ = api("/v1/ingest/community-visits", "POST", notes)
    rules = {r["source_key"]: [p["rule"] for p in r["problems"]] for r in pushed.get("records", [])} if isinstance(pushed, dict) else pushed
    check(status == 200 and all("match.queued" in rules.get(k, []) for k in ["console-v1", "console-v2"]),
          f"both visit notes wait in the review queue ({status} {rules})")
    _, listed, _ = api("/v1/matches", query={"adapter": "community-visits", "status": "open", "limit": 1000})
    cases = {m["source_key"]: m for m in listed["matches"]}
    known, unknown = cases["console-v1"], cases["console-v2"]
    check(any(c["entity_id"] == person["entity_id"] for c in known["candidates"]) and not unknown["candidates"],
          "the known resident is a candidate of the first case; the second has none")

    go(driver, "matches")
    Select(wait_for(driver, "#match-adapter")).select_by_value("community-visits")
    driver.find_element(By.ID, "match-search").click()
    wait_for(driver, f'#match-list[data-adapter="community-visits"] tr[data-match="{known["id"]}"] button[data-action="review"]').click()
    row = wait_for(driver, f'#match-detail tr[data-candidate="{person["entity_id"]}"]')
    _, whole, _ = api(f"/v1/matches/{known['id']}")
    candidate = next(c for c in whole["candidates"] if c["entity_id"] == person["entity_id"])
    shown = [el.get_attribute("data-verdict") for el in row.find_elements(By.CSS_SELECTOR, "[data-verdict]")]
    expected = [v for v in candidate["rules"].values()]
    check(sorted(shown) == sorted(expected) and "disagree" in shown, f"the candidate's verdict per rule is shown as the API gives it ({shown})")
    check(driver.find_element(By.CSS_SELECTOR, '#match-detail [data-field="name"]').text == record["name"],
          "the case's record is shown to the signed-in admin")
    row.find_element(By.CSS_SELECTOR, 'button[data-action="compare"]').click()
    wait_for(driver, '#match-side-by-side tr[data-compare-field="mobile"]')
    shot(driver, "matches.png")
    row.find_element(By.CSS_SELECTOR, 'button[data-action="link"]').click()
    reason = "console test: grid worker confirmed the new phone number"
    confirm_dialog(driver, {"reason": reason})
    wait_for(driver, '#match-detail dl[data-status="linked"]')
    _, linked, _ = api(f"/v1/matches/{known['id']}")
    check(linked["status"] == "linked" and linked["decision"]["entity_id"] == person["entity_id"]
          and linked["decision"]["reason"] == reason, f"case {known['id']} linked in the console is linked in the API")

    # The second case by keyboard only: Enter on its review button, the reject button, a reason, Enter.
    wait_for(driver, f'tr[data-match="{unknown["id"]}"] button[data-action="review"]').send_keys(Keys.ENTER)
    wait_for(driver, f'#match-detail dl[data-match-case="{unknown["id"]}"]')
    wait_for(driver, "#no-candidates")
    wait_for(driver, "#match-reject").send_keys(Keys.ENTER)
    reason = "console test: visitor from another district"
    wait_for(driver, "dialog[open] #dialog-reason").send_keys(reason)
    driver.switch_to.active_element.send_keys(Keys.TAB)
    for _ in range(4):
        if driver.execute_script("return document.activeElement.id") == "dialog-confirm":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for(driver, '#match-detail dl[data-status="rejected"]')
    _, rejected, _ = api(f"/v1/matches/{unknown['id']}")
    check(rejected["status"] == "rejected" and rejected["decision"]["reason"] == reason,
          f"case {unknown['id']} rejected by keyboard in the console is rejected in the API")
    _, still, _ = api("/v1/matches", query={"adapter": "community-visits", "status": "open", "limit": 1000})
    check(not any(m["id"] in (known["id"], unknown["id"]) for m in still["matches"]), "neither case is open any more")


def mappings(driver):
    # Pick a published mapping, break one line (a canonical field that does not exist), validate.
    go(driver, "mappings")
    Select(wait_for(driver, "#mapping-pick")).select_by_value("civil-dibao")
    text_area = wait_for(driver, "#mapping-text")
    eventually(lambda: (bool(text_area.get_attribute("value")), "the picked mapping's text"), "picking a mapping loads its text")
    lines = text_area.get_attribute("value").split("\n")
    line = next(i for i, l in enumerate(lines) if l.strip().startswith("reason:")) + 1
    lines[line - 1] = lines[line - 1].replace("reason:", "no_such_field:", 1)
    broken = "\n".join(lines)
    driver.execute_script("arguments[0].value = arguments[1]", text_area, broken)
    driver.find_element(By.ID, "validate-button").click()
    verdict = wait_for(driver, "#validation-verdict")
    check(verdict.get_attribute("data-valid") == "false", "a mapping with an error is shown as not valid")
    _, answer, _ = api("/v1/mappings/validate", "POST", {"mapping": broken})
    errors = [p for p in answer["problems"] if p["severity"] == "error"]
    check(any(p.get("line") == line for p in errors), f"the API places the error on line {line}: {errors}")
    rows = driver.find_elements(By.CSS_SELECTOR, f'#validation-result tr[data-line="{line}"]')
    check(bool(rows) and "no_such_field" in rows[0].text, f"the Mappings page shows the error with its line ({line})")


def subscriptions(driver):
    go(driver, "subscriptions")
    wait_for(driver, "#sub-name").send_keys("控制台测试平台")
    driver.find_element(By.ID, "sub-purpose").send_keys("console test: community services")
    driver.find_element(By.ID, "sub-resource-Person").click()
    driver.find_element(By.ID, "sub-area").send_keys("510108001")
    driver.find_element(By.ID, "sub-preview-button").click()
    wait_for(driver, '#sub-preview select[data-field="Person.citizen_id"]')
    shown = Select(driver.find_element(By.CSS_SELECTOR, '#sub-preview select[data-field="Person.citizen_id"]')).first_selected_option.get_attribute("value")
    _, preview, _ = api("/v1/subscriptions/preview", "POST", {"name": "x", "purpose": "x", "resources": ["Person"], "area": ["510108001"]})
    expected = next(f["policy"] for r in preview["resources"] for f in r["fields"] if f["field"] == "citizen_id")
    check(shown == expected and expected != "plain", f"the preview shows what the grant discloses (citizen_id {shown})")
    shot(driver, "subscriptions.png")
    driver.find_element(By.ID, "sub-create").click()
    token_el = wait_for(driver, "#sub-token")
    token = token_el.text.strip()
    subscription = token_el.get_attribute("data-subscription")
    status, feed, _ = api("/v1/feed", token=token, query={"limit": 20})
    check(status == 200 and isinstance(feed.get("events"), list) and len(feed["events"]) > 0,
          f"the subscription created in the console pulls the feed with its token ({status}, {len(feed.get('events', [])) if isinstance(feed, dict) else feed})")
    check(all(e["data"].get("citizen_id", "*").count("*") > 0 for e in feed["events"] if isinstance(e.get("data"), dict)),
          "events come masked as previewed")
    wait_for(driver, f'tr[data-subscription="{subscription}"]')


def records(driver):
    _, changes, _ = api("/v1/changes", query={"limit": 50})
    person = next(e for e in changes["events"] if e["resource"] == "Person" and e.get("record", {}).get("citizen_id"))
    key = person["record"]["citizen_id"]
    go(driver, "records")
    Select(driver.find_element(By.ID, "record-resource")).select_by_value("Person")
    wait_for(driver, "#record-key").send_keys(key + Keys.ENTER)
    value = wait_for(driver, '#record-view [data-field="citizen_id"]')
    check(value.text != key and "*" in value.text, "the record is shown with its ID number masked")
    shot(driver, "records.png")
    _, before, _ = api("/v1/audit", query={"actor": "admin", "limit": 1000})
    driver.find_element(By.ID, "reveal-button").click()
    purpose = "console test: checking a correction request"
    confirm_dialog(driver, {"purpose": purpose})
    wait_for(driver, "#revealed")
    check(driver.find_element(By.CSS_SELECTOR, '#record-view [data-field="citizen_id"]').text == key, "reveal shows the full value")
    _, after, _ = api("/v1/audit", query={"actor": "admin", "limit": 1000})
    new = [e for e in after["entries"] if e["id"] > max([x["id"] for x in before["entries"]] or [0])]
    check(any(e["purpose"] == purpose and "citizen_id" in e["fields"] for e in new), "the reveal is in the audit log with its purpose")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print("FAILED: " + str(error), flush=True)
        sys.exit(1)
