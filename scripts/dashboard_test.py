#!/usr/bin/env python3
"""The dashboard in a real browser: headless Chromium driven by Selenium against `stepwise serve`
with real runs (YAML runs, and a run of the official Upstash Python SDK).

Usage (a Python with scripts/upstash_compat/requirements.txt and selenium; Chromium and its
driver from Debian's `chromium` and `chromium-driver`):
    python scripts/dashboard_test.py PATH/TO/stepwise [--screenshots DIR] [--bulk 10000] [--readme PNG]

What it does, on 127.0.0.1: starts the server and the SDK app as the compatibility suite does
(scripts/upstash_compat/suite.py), a loopback stub whose `/flaky` answers 500 until told
otherwise, and runs: three of `napper` (a request, a sleep), one of `flaky` (its request fails,
so the run fails into the DLQ), one of `waiter` (waits for an event), one of the SDK app's
`sequential`, and `--bulk` runs of `quick` (a pure step) so the store holds that many runs. Then
in the browser: the sign-in refuses a wrong token and accepts the server's; the runs list shows
the runs with their status; the failed run's page marks it failed, and clicking Resume (the stub
fixed) makes it succeed, its graph node turning done; the waiting run's page sends it its event
and it succeeds; the SDK run's page shows its steps; the workflows and schedules pages list
theirs; at phone width the runs page fits the screen. Screenshots are kept in `--screenshots`.
Prints how long the runs page took to show its first rows with the bulk in the store (a figure,
not a pass/fail). The last line is `dashboard test: N passed, M failed`.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "upstash_compat"))
from suite import Fail, Harness  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WORKFLOWS = {
    "napper": """workflow: napper
description: A request and a short sleep
steps:
  - id: ping
    http: {url: "@STUB@/ok"}
  - id: nap
    sleep: 50ms
output: ${{ steps.ping.status }}
""",
    "flaky": """workflow: flaky
description: Fails until its service is fixed
retries: 0
steps:
  - id: charge
    http: {url: "@STUB@/flaky", expect: {status: [200]}}
output: charged
""",
    "waiter": """workflow: waiter
steps:
  - id: approval
    wait_for_event: {event: "approve-${{ input.order }}", timeout: 1h}
output: ${{ steps.approval.data }}
""",
    "quick": """workflow: quick
steps:
  - id: sum
    set: {value: "${{ input.n + 1 }}"}
output: ${{ steps.sum.value }}
""",
}


class Stub(ThreadingHTTPServer):
    daemon_threads = True
    fixed = False


def stub_handler():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.path == "/ok" or (self.path == "/flaky" and self.server.fixed)
            body = json.dumps({"ok": ok}).encode()
            self.send_response(200 if ok else 500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


class Checks:
    def __init__(self):
        self.passed, self.failed = 0, 0

    def check(self, what, condition, detail=""):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAILED {what} {detail}".rstrip(), flush=True)


def api(h, method, path, body=None):
    request = urllib.request.Request(h.server_url + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {h.token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as answer:
        text = answer.read()
        return json.loads(text) if text else None


def wait_for_status(h, run_id, wanted, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if api(h, "GET", f"/api/runs/{run_id}")["status"] in wanted:
            return True
        time.sleep(0.1)
    return False


def start_runs(h, bulk):
    ids = {"napper": [api(h, "POST", "/workflows/napper", {})["workflowRunId"] for _ in range(3)]}
    ids["flaky"] = api(h, "POST", "/workflows/flaky", {})["workflowRunId"]
    ids["waiter"] = api(h, "POST", "/workflows/waiter", {"order": 7})["workflowRunId"]
    ids["sdk"] = h.start_run("sequential", {"n": 3, "tag": "dashboard"})
    request = urllib.request.Request(h.server_url + "/workflows/napper", method="POST", data=b"{}", headers={
        "Authorization": f"Bearer {h.token}", "Content-Type": "application/json", "Upstash-Label": "vip tier"})
    with urllib.request.urlopen(request, timeout=20) as answer:
        ids["labelled"] = json.loads(answer.read())["workflowRunId"]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda n: api(h, "POST", "/workflows/quick", {"n": n}), range(bulk)))
    return ids


def browser(width, height):
    options = webdriver.ChromeOptions()
    options.add_argument("--headless=new")
    options.add_argument("--no-sandbox")
    options.add_argument("--disable-dev-shm-usage")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


def status_badge(driver):
    return driver.find_element(By.CSS_SELECTOR, "main p .badge").get_attribute("data-status")


def run_browser(h, ids, screenshots, readme, checks):
    driver = browser(1280, 900)
    # Pages re-render as runs change (the change feed): an element read mid-render is read again.
    wait = WebDriverWait(driver, 20, ignored_exceptions=[StaleElementReferenceException, NoSuchElementException])
    try:
        driver.get(h.server_url + "/")
        wait.until(expected_conditions.presence_of_element_located((By.ID, "token"))).send_keys("not-the-token")
        driver.find_element(By.CSS_SELECTOR, "#signin button").click()
        wait.until(lambda d: d.find_element(By.ID, "signin-error").text != "")
        checks.check("a wrong token is refused", "not this server's" in driver.find_element(By.ID, "signin-error").text)
        token = driver.find_element(By.ID, "token")
        token.clear()
        token.send_keys(h.token)
        driver.find_element(By.CSS_SELECTOR, "#signin button").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#runs tr"))
        cookies = {cookie["name"]: cookie for cookie in driver.get_cookies()}
        session = cookies.get("stepwise_session", {})
        checks.check("the session cookie is HttpOnly and SameSite=Strict", session.get("httpOnly") and session.get("sameSite") == "Strict",
                     str(session))
        checks.check("the page never holds the token", h.token not in driver.page_source)
        driver.get_log("browser")  # the wrong token's 401 above was meant: only what follows counts

        driver.get(h.server_url + "/#/runs?workflow=flaky")
        driver.refresh()
        row = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'tr[data-run="{ids["flaky"]}"]'))
        checks.check("the failed run is marked failed in the list",
                     row.find_element(By.CSS_SELECTOR, ".badge").get_attribute("data-status") == "failed")
        driver.get(h.server_url + "/#/runs")
        driver.refresh()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#runs tr"))
        rendered = float(wait.until(lambda d: d.execute_script("return document.body.dataset.renderedAt")))
        driver.save_screenshot(os.path.join(screenshots, "runs.png"))
        driver.find_element(By.ID, "more").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#runs tr")) == 100)
        fresh = api(h, "POST", "/workflows/napper", {})["workflowRunId"]
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-run="{fresh}"]'))
        checks.check("a run started while two pages are shown appears, and More's page stays",
                     len(driver.find_elements(By.CSS_SELECTOR, "#runs tr")) >= 100)

        label = driver.find_element(By.ID, "filter-label")
        # A space goes into the URL as "+" (URLSearchParams), which the server reads as a space.
        label.send_keys("vip tier\n")
        wait.until(lambda d: "label=vip+tier" in d.current_url and len(d.find_elements(By.CSS_SELECTOR, "#runs tr")) == 1)
        checks.check("the label filter (a label with a space) shows the labelled run alone",
                     [row.get_attribute("data-run") for row in driver.find_elements(By.CSS_SELECTOR, "#runs tr")] == [ids["labelled"]])

        driver.get(h.server_url + f"/#/runs/{ids['flaky']}")
        wait.until(lambda d: d.find_elements(By.ID, "resume"))
        checks.check("the failed run's page says failed", status_badge(driver) == "failed")
        checks.check("its graph marks the failed step", driver.find_element(By.CSS_SELECTOR, '[data-step="charge"]').get_attribute("data-state") == "failed")
        driver.save_screenshot(os.path.join(screenshots, "run-failed.png"))
        if readme:
            driver.save_screenshot(readme)
        h_stub.fixed = True
        driver.find_element(By.ID, "resume").click()
        wait.until(lambda d: status_badge(d) == "succeeded")
        checks.check("clicking Resume makes the failed run succeed", status_badge(driver) == "succeeded")
        checks.check("its graph node turns done", driver.find_element(By.CSS_SELECTOR, '[data-step="charge"]').get_attribute("data-state") == "done")
        checks.check("the page still says what the click came to after the live redraws",
                     driver.find_element(By.ID, "action-note").text == "Resume: done", driver.find_element(By.ID, "action-note").text)
        checks.check("the API agrees", api(h, "GET", f"/api/runs/{ids['flaky']}")["status"] == "succeeded")
        driver.save_screenshot(os.path.join(screenshots, "run-resumed.png"))

        driver.get(h.server_url + f"/#/runs/{ids['waiter']}")
        wait.until(lambda d: d.find_elements(By.ID, "send-event"))
        checks.check("the waiting run's graph shows it waiting",
                     driver.find_element(By.CSS_SELECTOR, '[data-step="approval"]').get_attribute("data-state") == "waiting")
        checks.check("the event box holds the event the run awaits",
                     driver.find_element(By.ID, "event-name").get_attribute("value") == "approve-7")
        data = driver.find_element(By.ID, "event-data")
        data.clear()
        data.send_keys('{"by": "ada"}')
        driver.find_element(By.ID, "send-event").click()
        wait.until(lambda d: status_badge(d) == "succeeded")
        checks.check("sending the event from the page ends the wait", '"by": "ada"' in driver.find_element(By.ID, "output").text)

        driver.get(h.server_url + f"/#/runs/{ids['sdk']}")
        # The page changes in place: wait for this run's heading before reading its rows.
        wait.until(lambda d: ids["sdk"] in d.find_element(By.TAG_NAME, "h1").text and d.find_elements(By.CSS_SELECTOR, "tr[data-step]"))
        checks.check("the SDK run's page shows its steps", wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr[data-step]")) == 3))
        checks.check("the SDK run succeeded", wait.until(lambda d: status_badge(d) == "succeeded"))
        driver.save_screenshot(os.path.join(screenshots, "run-sdk.png"))

        driver.get(h.server_url + "/#/workflows")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-workflow]"))
        names = {node.get_attribute("data-workflow") for node in driver.find_elements(By.CSS_SELECTOR, "[data-workflow]")}
        checks.check("the workflows page lists the served workflows", set(WORKFLOWS) <= names, str(names))
        driver.save_screenshot(os.path.join(screenshots, "workflows.png"))
        driver.get(h.server_url + "/#/schedules")
        wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "Schedules")
        driver.save_screenshot(os.path.join(screenshots, "schedules.png"))
        severe = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        checks.check("no page logged an error in the browser's console (a missing favicon included)", not severe, str(severe[:3]))

        driver.set_window_size(390, 844)
        driver.get(h.server_url + "/#/runs")
        driver.refresh()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#runs tr"))
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        checks.check("the runs page fits a phone-width screen", overflow <= 1, f"{overflow} px too wide")
        driver.save_screenshot(os.path.join(screenshots, "phone.png"))
        return rendered
    except Exception:
        driver.save_screenshot(os.path.join(screenshots, "failure.png"))
        print(f"dashboard test: the browser was at {driver.current_url} showing: "
              f"{driver.find_element(By.TAG_NAME, 'main').text[:600]!r} (failure.png)", flush=True)
        raise
    finally:
        driver.quit()


h_stub = None


def main():
    global h_stub
    parser = argparse.ArgumentParser(description="The dashboard in headless Chromium.")
    parser.add_argument("binary")
    parser.add_argument("--screenshots", default=None, help="folder for the screenshots (default: a temporary one, printed)")
    parser.add_argument("--bulk", type=int, default=10_000, help="runs of `quick` put in the store first (default 10,000)")
    parser.add_argument("--readme", default=None, help="also save the failed run's page here (the README's picture)")
    arguments = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="stepwise-dashboard-")
    screenshots = arguments.screenshots or os.path.join(workdir, "screenshots")
    os.makedirs(screenshots, exist_ok=True)
    h_stub = Stub(("127.0.0.1", 0), stub_handler())
    threading.Thread(target=h_stub.serve_forever, daemon=True).start()
    stub_url = f"http://127.0.0.1:{h_stub.server_address[1]}"
    os.makedirs(os.path.join(workdir, "workflows"))
    for name, text in WORKFLOWS.items():
        with open(os.path.join(workdir, "workflows", f"{name}.yaml"), "w") as file:
            file.write(text.replace("@STUB@", stub_url))
    h = Harness(os.path.abspath(arguments.binary), workdir, verbose=False)
    checks = Checks()
    try:
        h.start()
        started = time.monotonic()
        ids = start_runs(h, arguments.bulk)
        print(f"dashboard test: {arguments.bulk + 7} runs started in {time.monotonic() - started:.1f} s", flush=True)
        checks.check("the failed run failed", wait_for_status(h, ids["flaky"], {"failed"}))
        checks.check("the SDK run succeeded", wait_for_status(h, ids["sdk"], {"succeeded"}))
        rendered = run_browser(h, ids, screenshots, arguments.readme, checks)
        print(f"dashboard test: the runs page showed its first rows {rendered:.0f} ms after navigation "
              f"with {arguments.bulk + 7} runs in the store", flush=True)
    except Fail as failure:
        checks.check("setup", False, str(failure))
    except Exception as error:  # a browser or driver error is a failure of the test, reported
        checks.check("browser session", False, f"{type(error).__name__}: {error}")
    finally:
        h.stop()
        h_stub.shutdown()
    print(f"dashboard test: screenshots in {screenshots}", flush=True)
    print(f"dashboard test: {checks.passed} passed, {checks.failed} failed", flush=True)
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
