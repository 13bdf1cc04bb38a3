#!/usr/bin/env python3
"""Black-box compatibility suite: the official Upstash Python SDKs against `stepwise serve`.

Usage:
    python scripts/upstash_compat/suite.py PATH/TO/stepwise [--only a,b] [--keep] [-v]

Needs the packages of requirements.txt beside this file (upstash-workflow 2.0.0, qstash 3.4.0,
fastapi, uvicorn, httpx) in the Python that runs it.

What it does, all on 127.0.0.1:
1. starts `stepwise serve` on a free port, a fresh SQLite store, an empty workflows folder, a
   random API token and `--retry-delay-scale 0.01` (QStash's default backoff, 12 s then 148 s
   then 30 min, scaled down), and waits for GET /health;
2. starts app.py (beside this file) under uvicorn on another free port, with QSTASH_URL pointing
   at Stepwise, QSTASH_TOKEN = the token and UPSTASH_WORKFLOW_URL = the app's own origin, so the
   SDK's workflow URLs are http://127.0.0.1:<app port>/wf/<name>;
3. runs the scenarios (each bounded by 60 s), printing `PASS name` or `FAIL name: reason`, then
   one line `N passed, M failed`; the last one, `yaml_runner_alongside`, also starts
   `stepwise runner` with a YAML workflow against the same server and runs both kinds at once. Exit status 0 when all passed, 1 otherwise, 2 for usage errors.

Runs are started like an application would: an HTTP POST straight to the workflow endpoint
(the SDK's "first invocation", which calls POST /v2/batch on Stepwise and answers
{"workflowRunId": ...}), or `QStash.message.publish_json` to the endpoint. Run status comes from
Stepwise's GET /api/runs/<id>; what the workflow code did comes from the app's GET /results.

Both processes are stopped at the end, also after errors, timeouts and Ctrl-C. Their logs
(server.log, app.log) are in the temporary folder, kept (and named) when something failed or
with --keep.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

try:
    import httpx
    import jwt  # PyJWT, a dependency of qstash
    from qstash import QStash, Receiver
    from qstash.errors import QStashError
except ImportError as missing:  # pragma: no cover - usage error
    sys.stderr.write(
        f"missing Python package ({missing}); install scripts/upstash_compat/requirements.txt first\n"
    )
    sys.exit(2)

warnings.filterwarnings("ignore", message="The HMAC key is")  # PyJWT: short HS256 keys are fine here

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "127.0.0.1"
SCENARIO_TIMEOUT = 60.0     # hard bound per scenario (watchdog)
POLL = 0.15                 # seconds between polls
LONG_SLEEP = 8              # the `long` workflow's sleep, seconds
TERMINAL = {"succeeded", "failed", "canceled"}


class Fail(Exception):
    """A scenario's expectation that did not hold; the message names expected and actual."""


def short(value: Any, limit: int = 400) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-lines:]).rstrip()
    except OSError:
        return ""


class Harness:
    """The two processes, their addresses and the HTTP helpers scenarios use."""

    def __init__(self, binary: str, workdir: str, verbose: bool) -> None:
        self.binary = binary
        self.workdir = workdir
        self.verbose = verbose
        self.token = "sw_" + secrets.token_hex(16)
        self.server_port = free_port()
        self.app_port = free_port()
        self.server_url = f"http://{HOST}:{self.server_port}"
        self.app_url = f"http://{HOST}:{self.app_port}"
        self.server_log = os.path.join(workdir, "server.log")
        self.app_log = os.path.join(workdir, "app.log")
        self.procs: List[Tuple[str, subprocess.Popen]] = []
        # trust_env=False: never route loopback traffic through a proxy from the environment.
        self.http = httpx.Client(timeout=10.0, trust_env=False)
        self._keys: Optional[Dict[str, str]] = None

    # -- processes ---------------------------------------------------------------------------

    def _spawn(self, name: str, argv: List[str], log_path: str, env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
        log = open(log_path, "ab")
        try:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=self.workdir)
        finally:
            log.close()
        self.procs.append((name, proc))
        return proc

    def _wait_http(self, name: str, proc: subprocess.Popen, url: str, log_path: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        last = "no answer"
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                raise Fail(f"{name} exited with status {code} before {url} answered; last log lines:\n{tail(log_path)}")
            try:
                answer = self.http.get(url, timeout=2.0)
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code} {short(answer.text, 200)}"
            except httpx.HTTPError as error:
                last = f"{type(error).__name__}: {error}"
            time.sleep(POLL)
        raise Fail(f"{name}: {url} did not answer 200 within {seconds:.0f} s (last: {last}); log:\n{tail(log_path)}")

    def start(self) -> None:
        workflows = os.path.join(self.workdir, "workflows")
        os.makedirs(workflows, exist_ok=True)
        server = self._spawn(
            "stepwise",
            [
                self.binary, "serve",
                "--workflows", workflows,
                "--store", "sqlite:" + os.path.join(self.workdir, "stepwise.db"),
                "--host", HOST,
                "--port", str(self.server_port),
                "--token", self.token,
                "--retry-delay-scale", "0.01",
            ],
            self.server_log,
        )
        self._wait_http("stepwise serve", server, f"{self.server_url}/health", self.server_log, 30)

        env = dict(os.environ)
        for name in ("QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY", "QSTASH_DEV", "UPSTASH_WORKFLOW_URL",
                     "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            env.pop(name, None)
        env.update(
            QSTASH_URL=self.server_url,
            QSTASH_TOKEN=self.token,
            UPSTASH_WORKFLOW_URL=self.app_url,
            LONG_SLEEP=str(LONG_SLEEP),
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            PYTHONUNBUFFERED="1",
        )
        app = self._spawn(
            "app",
            [sys.executable, "-m", "uvicorn", "app:app", "--app-dir", HERE, "--host", HOST,
             "--port", str(self.app_port), "--log-level", "info"],
            self.app_log,
            env,
        )
        self._wait_http("app (uvicorn)", app, f"{self.app_url}/results", self.app_log, 30)

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    sys.stderr.write(f"warning: {name} (pid {proc.pid}) did not exit after SIGKILL\n")
        self.procs.clear()
        self.http.close()

    def check_alive(self) -> None:
        for name, proc in self.procs:
            code = proc.poll()
            if code is not None:
                log = self.server_log if name == "stepwise" else self.app_log
                raise Fail(f"{name} is no longer running (exit status {code}); last log lines:\n{tail(log)}")

    # -- Stepwise API ------------------------------------------------------------------------

    def auth(self) -> Dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth(), **kwargs.pop("headers", {})}
        try:
            return self.http.request(method, self.server_url + path, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise Fail(f"{method} {path} on stepwise: {type(error).__name__}: {error}")

    def run_status(self, run_id: str) -> Tuple[int, Any]:
        answer = self.api("GET", f"/api/runs/{run_id}")
        try:
            body = answer.json()
        except ValueError:
            body = answer.text
        return answer.status_code, body

    def wait_run(self, run_id: str, want: str, deadline: float) -> Dict[str, Any]:
        """Polls GET /api/runs/<id> until its status is `want`; fails early on another end state."""
        last: Any = "nothing"
        while True:
            code, body = self.run_status(run_id)
            if code == 200 and isinstance(body, dict):
                status = body.get("status")
                if status == want:
                    return body
                if status in TERMINAL:
                    raise Fail(
                        f"run {run_id}: expected status '{want}', got '{status}' (error: {short(body.get('error'), 300)}); "
                        + self.app_note(run_id)
                    )
                last = f"status '{status}'"
            else:
                last = f"HTTP {code} {short(body, 200)}"
            if time.monotonic() >= deadline:
                raise Fail(
                    f"run {run_id}: expected status '{want}' in time, GET /api/runs/{run_id} last said {last}; "
                    + self.app_note(run_id)
                )
            self.check_alive()
            time.sleep(POLL)

    def keys(self) -> Dict[str, str]:
        if self._keys is None:
            answer = self.api("GET", "/v2/keys")
            if answer.status_code != 200:
                raise Fail(f"GET /v2/keys: expected 200 {{current, next}}, got {answer.status_code} {short(answer.text, 200)}")
            keys = answer.json()
            if not (isinstance(keys, dict) and isinstance(keys.get("current"), str) and isinstance(keys.get("next"), str)
                    and keys["current"] and keys["next"]):
                raise Fail(f"GET /v2/keys: expected {{\"current\": str, \"next\": str}}, got {short(keys, 200)}")
            self._keys = keys
        return self._keys

    def qstash(self) -> QStash:
        return QStash(self.token, base_url=self.server_url)

    # -- the app -----------------------------------------------------------------------------

    def app(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, self.app_url + path, **kwargs)
        except httpx.HTTPError as error:
            raise Fail(f"{method} {path} on the app: {type(error).__name__}: {error}")

    def start_run(self, workflow: str, payload: Any) -> str:
        """Starts a run the SDK way: a plain POST to the endpoint (first invocation)."""
        answer = self.app("POST", f"/wf/{workflow}", json=payload, timeout=20.0)
        try:
            body = answer.json()
        except ValueError:
            body = answer.text
        if answer.status_code != 200 or not isinstance(body, dict) or not str(body.get("workflowRunId", "")).startswith("wfr_"):
            raise Fail(
                f"starting '{workflow}': POST /wf/{workflow} should answer 200 {{\"workflowRunId\": \"wfr_...\"}} "
                f"(the SDK answers so after its POST /v2/batch to stepwise succeeded), got {answer.status_code} {short(body, 500)}"
            )
        return body["workflowRunId"]

    def result(self, run_id: str) -> Optional[Dict[str, Any]]:
        answer = self.app("GET", f"/results/{run_id}")
        return answer.json() if answer.status_code == 200 else None

    def wait_app(self, run_id: str, what: str, check: Callable[[Dict[str, Any]], bool], deadline: float) -> Dict[str, Any]:
        while True:
            rec = self.result(run_id)
            if rec is not None and check(rec):
                return rec
            if time.monotonic() >= deadline:
                raise Fail(f"run {run_id}: the app never saw {what}; " + self.app_note(run_id) + self.server_note(run_id))
            self.check_alive()
            time.sleep(POLL)

    def runs_by_tag(self, tag: str) -> List[Dict[str, Any]]:
        return self.app("GET", "/results", params={"tag": tag}).json()["runs"]

    def app_note(self, run_id: str) -> str:
        """What the app saw of a run, for failure messages."""
        try:
            answer = self.app("GET", f"/results/{run_id}")
            rec = answer.json()
        except Exception as error:  # noqa: BLE001
            return f"(app record unavailable: {error})"
        statuses = [r.get("status") for r in rec.get("requests", [])]
        if answer.status_code != 200:
            return f"app: no step of this run ran; requests with this run id answered {statuses}"
        ran = ", ".join(f"{k}x{v}" for k, v in rec.get("executions", {}).items()) or "nothing"
        return f"app: step code ran [{ran}], finished={rec.get('finished')}, continuation requests answered {statuses}"

    def server_note(self, run_id: str) -> str:
        try:
            code, body = self.run_status(run_id)
        except Fail as error:
            return f"; stepwise: {error}"
        if code != 200 or not isinstance(body, dict):
            return f"; stepwise: GET /api/runs/{run_id} -> {code} {short(body, 200)}"
        return f"; stepwise: status '{body.get('status')}', error {short(body.get('error'), 200)}"


# ------------------------------------------------------------------------------------------------
# Checks
# ------------------------------------------------------------------------------------------------


def expect_equal(what: str, actual: Any, expected: Any) -> None:
    if actual != expected:
        raise Fail(f"{what}: expected {short(expected, 300)}, got {short(actual, 300)}")


def expect_counts(run_id: str, executions: Dict[str, int], expected: Dict[str, int]) -> None:
    wrong = {k: executions.get(k, 0) for k, v in expected.items() if executions.get(k, 0) != v}
    if wrong:
        raise Fail(
            f"run {run_id}: step code should have run {expected} times, but ran "
            f"{ {k: executions.get(k, 0) for k in expected} }"
        )


def header_value(headers: Any, name: str) -> Optional[str]:
    """A header from a {name: [values]} or {name: value} map, by case-insensitive name."""
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if key.lower() == name.lower():
            if isinstance(value, list):
                return value[0] if value else None
            return value
    return None


def b64text(value: Any) -> str:
    if not isinstance(value, str):
        raise Fail(f"expected a base64 string, got {short(value, 100)}")
    try:
        return base64.b64decode(value).decode("utf-8")
    except Exception as error:  # noqa: BLE001
        raise Fail(f"'{short(value, 80)}' is not base64 of UTF-8 text: {error}")


def new_tag(name: str) -> str:
    return f"{name}-{secrets.token_hex(4)}"


def find_tagged_run(h: Harness, tag: str, path: str, since: float, deadline: float, how: str) -> str:
    while True:
        runs = h.runs_by_tag(tag)
        if runs:
            return runs[0]["workflowRunId"]
        if time.monotonic() >= deadline:
            seen = [r for r in h.app("GET", "/requests").json() if r.get("path") == path and r.get("t", 0) >= since]
            summary = [{k: r.get(k) for k in ("status", "signed", "sdkVersion", "runId")} for r in seen][:6]
            raise Fail(f"no run with payload tag {tag} ever ran a step in the app ({how}); requests to {path} "
                       f"since the publish: {len(seen)} {short(summary, 400)}")
        h.check_alive()
        time.sleep(POLL)


def log_list(client: Any, **options: Any) -> Any:
    """`client.log.list(**options)` without its output: qstash 3.4.0's prints every answer it reads,
    and the suite's output stays readable."""
    with contextlib.redirect_stdout(io.StringIO()):
        return client.log.list(**options)


def check_arithmetic(h: Harness, run_id: str, n: int, deadline: float, workflow: str) -> Dict[str, Any]:
    h.wait_run(run_id, "succeeded", deadline)
    rec = h.wait_app(run_id, "the workflow function return", lambda r: r.get("finished"), deadline)
    expect_equal(f"run {run_id}: result of {workflow}", rec["result"], {"a": n + 1, "b": (n + 1) * 10, "c": str((n + 1) * 10)})
    expect_counts(run_id, rec["executions"], {"add-one": 1, "times-ten": 1, "stringify": 1})
    expect_equal(f"run {run_id}: workflow URL the SDK used", rec["url"], f"{h.app_url}/wf/{workflow}")
    bad = [r for r in rec["requests"] if r.get("status") != 200]
    if bad:
        raise Fail(f"run {run_id}: deliveries to the endpoint should all succeed, these did not: {short(bad, 500)}")
    return rec


# ------------------------------------------------------------------------------------------------
# Scenarios: each takes the harness and a monotonic deadline, raises Fail on a broken expectation.
# ------------------------------------------------------------------------------------------------


def scenario_bad_token(h: Harness, deadline: float) -> None:
    item = [{"destination": f"{h.app_url}/third-party/echo?bad-token", "headers": {"Content-Type": "application/json"},
             "body": "{}"}]
    for label, headers in (("no Authorization", {}), ("a wrong bearer token", {"Authorization": "Bearer not-the-token"})):
        try:
            answer = h.http.post(h.server_url + "/v2/batch", json=item, headers=headers)
        except httpx.HTTPError as error:
            raise Fail(f"POST /v2/batch with {label}: {type(error).__name__}: {error}")
        if answer.status_code != 401:
            raise Fail(f"POST /v2/batch with {label}: expected 401, got {answer.status_code} {short(answer.text, 200)}")
    for method, path in (("GET", "/v2/keys"), ("DELETE", "/v2/workflows/runs/wfr_whatever?cancel=true"),
                         ("POST", f"/v2/publish/{h.app_url}/third-party/echo")):
        answer = h.http.request(method, h.server_url + path, headers={"Authorization": "Bearer not-the-token"})
        if answer.status_code != 401:
            raise Fail(f"{method} {path} with a wrong bearer token: expected 401, got {answer.status_code} {short(answer.text, 200)}")


def scenario_sequential(h: Harness, deadline: float) -> None:
    """Three context.run steps; every message of the run is CREATED then DELIVERED in the client's
    message log, the last one too (its run ended while it was being delivered)."""
    run_id = h.start_run("sequential", {"n": 1, "tag": new_tag("sequential")})
    rec = check_arithmetic(h, run_id, 1, deadline, "sequential")
    ids = [r["messageId"] for r in rec["requests"] if r.get("messageId")]
    if not ids:
        raise Fail(f"run {run_id}: its deliveries carried no Upstash-Message-Id")
    client = h.qstash()

    def states() -> List[List[str]]:
        return [[log.state.value for log in log_list(client, filter={"message_id": i}).logs] for i in ids]

    expected = [["DELIVERED", "CREATED"]] * len(ids)
    seen = states()
    while time.monotonic() < deadline and seen != expected:
        time.sleep(0.2)
        seen = states()
    expect_equal(f"run {run_id}: each message's states in log.list(), newest first", seen, expected)


def scenario_publish_json(h: Harness, deadline: float) -> None:
    tag = new_tag("publish")
    since = time.time()
    try:
        answer = h.qstash().message.publish_json(url=f"{h.app_url}/wf/sequential", body={"n": 7, "tag": tag})
    except Exception as error:  # noqa: BLE001 -- QStashError carries status and body
        raise Fail(f"QStash.message.publish_json(url=<app>/wf/sequential) -> POST /v2/publish/...: {error}")
    if not getattr(answer, "message_id", None):
        raise Fail(f"publish_json: expected a messageId in the answer, got {answer!r}")
    run_id = find_tagged_run(h, tag, "/wf/sequential", since, deadline, "publish_json delivers a plain message; the endpoint then starts a run")
    check_arithmetic(h, run_id, 7, deadline, "sequential")


def scenario_rest_trigger(h: Harness, deadline: float) -> None:
    """Upstash Workflow's REST trigger starts a run of the SDK endpoint without the SDK: the
    endpoint takes the first delivery for its run's (it says the SDK's version) and goes on."""
    tag = new_tag("rest")
    answer = h.api("POST", f"/v2/trigger/{h.app_url}/wf/sequential", json={"n": 5, "tag": tag}, headers={"Upstash-Label": "rest"})
    if answer.status_code != 200:
        raise Fail(f"POST /v2/trigger/<app>/wf/sequential: expected 200, got {answer.status_code} {short(answer.text, 200)}")
    run_id = answer.json().get("workflowRunId")
    if not run_id:
        raise Fail(f"POST /v2/trigger: no workflowRunId in {short(answer.text, 200)}")
    check_arithmetic(h, run_id, 5, deadline, "sequential")
    runs = h.runs_by_tag(tag)
    expect_equal("runs the app saw for the REST trigger's payload (one: the SDK did not start another)", [r["workflowRunId"] for r in runs], [run_id])
    _, run = h.run_status(run_id)
    expect_equal(f"run {run_id}: its label", (run or {}).get("label"), "rest")


def scenario_singleton(h: Harness, deadline: float) -> None:
    """Upstash's singleton workflows: a chosen run id is refused while its run is in progress, and
    once that run is canceled the same id starts a new run, which the SDK runs from its own payload."""
    run_id = f"wfr_{new_tag('singleton')}"
    held = {"tag": new_tag("singleton-long")}
    start = lambda workflow, payload: h.api(  # noqa: E731
        "POST", f"/v2/trigger/{h.app_url}/wf/{workflow}", json=payload, headers={"Upstash-Workflow-RunId": run_id})
    first = start("long", held)
    if first.status_code != 200:
        raise Fail(f"POST /v2/trigger/<app>/wf/long with Upstash-Workflow-RunId: expected 200, got {first.status_code} {short(first.text, 200)}")
    h.wait_app(run_id, "the step before the sleep", lambda r: r["executions"].get("reached-sleep", 0) >= 1, deadline)
    in_progress = (400, "a workflow already exists, can not initialize a new one with same id")
    error_of = lambda answer: (answer.status_code, answer.json().get("error") if "json" in answer.headers.get("content-type", "") else answer.text)  # noqa: E731
    expect_equal("a trigger of the run in progress: status and error", error_of(start("long", held)), in_progress)
    cancel = h.api("DELETE", f"/v2/workflows/runs/{run_id}?cancel=true")
    if cancel.status_code != 200:
        raise Fail(f"DELETE /v2/workflows/runs/{run_id}?cancel=true: expected 200, got {cancel.status_code} {short(cancel.text, 200)}")
    h.wait_run(run_id, "canceled", deadline)
    tag = new_tag("singleton-next")
    replaced = start("sequential", {"n": 3, "tag": tag})
    # The id is released once the canceled run's delivery in flight, if any, has ended.
    until = min(deadline, time.monotonic() + 5)
    while error_of(replaced) == in_progress and time.monotonic() < until:
        time.sleep(POLL)
        replaced = start("sequential", {"n": 3, "tag": tag})
    if replaced.status_code != 200:
        raise Fail(f"the same id once its run was canceled: expected 200, got {replaced.status_code} {short(replaced.text, 200)}")
    check_arithmetic(h, run_id, 3, deadline, "sequential")
    expect_equal(f"run {run_id}: the payload the SDK read", (h.result(run_id) or {}).get("tag"), tag)


def scenario_publish_deduplicated(h: Harness, deadline: float) -> None:
    tag = new_tag("dedup")
    url, headers = f"{h.app_url}/third-party/echo", {"X-Run-Id": tag}
    message = h.qstash().message
    try:
        first = message.publish_json(url=url, body={"n": 1}, headers=headers, deduplication_id=tag)
        again = message.publish_json(url=url, body={"n": 2}, headers=headers, deduplication_id=tag)
        by_content = message.publish_json(url=url, body={"n": 3}, headers=headers, content_based_deduplication=True)
        same_content = message.publish_json(url=url, body={"n": 3}, headers=headers, content_based_deduplication=True)
    except Exception as error:  # noqa: BLE001 -- QStashError carries status and body
        raise Fail(f"publish_json with deduplication_id / content_based_deduplication: {error}")
    expect_equal("the first publish with a deduplication id is new", first.deduplicated, False)
    expect_equal("the second publish with that id is deduplicated", (again.deduplicated, again.message_id), (True, first.message_id))
    expect_equal("the first content-based publish is new", by_content.deduplicated, False)
    expect_equal("the same content again is deduplicated", (same_content.deduplicated, same_content.message_id), (True, by_content.message_id))
    while time.monotonic() < deadline and len(h.app("GET", f"/third-party/received?run={tag}").json()) < 2:
        time.sleep(0.2)
    time.sleep(1.0)  # a duplicate that was queued after all would arrive meanwhile
    bodies = sorted(json.loads(r["body"])["n"] for r in h.app("GET", f"/third-party/received?run={tag}").json())
    expect_equal("the bodies delivered (each message once, no duplicate)", bodies, [1, 3])


def scenario_signed(h: Harness, deadline: float) -> None:
    h.keys()
    keys_state = h.app("GET", "/signing-keys").json()
    if not keys_state.get("haveKeys"):
        raise Fail(f"the app could not read signing keys from GET /v2/keys: {keys_state.get('error')}")
    tag = new_tag("signed")
    since = time.time()
    try:
        h.qstash().message.publish_json(url=f"{h.app_url}/wf/signed", body={"n": 5, "tag": tag})
    except Exception as error:  # noqa: BLE001
        raise Fail(f"publish_json to the signed endpoint: {error}")
    run_id = find_tagged_run(h, tag, "/wf/signed", since, deadline, "every request to /wf/signed must carry a valid Upstash-Signature")
    rec = check_arithmetic(h, run_id, 5, deadline, "signed")
    unsigned = [r for r in rec["requests"] if not r.get("signed")]
    if unsigned:
        raise Fail(f"run {run_id}: deliveries without Upstash-Signature: {short(unsigned, 300)}")


def scenario_signature_rejected(h: Harness, deadline: float) -> None:
    keys_state = h.app("GET", "/signing-keys").json()
    if not keys_state.get("haveKeys"):
        raise Fail(f"the app could not read signing keys from GET /v2/keys, so rejection proves nothing: {keys_state.get('error')}")
    fake_run = "wfr_forged" + secrets.token_hex(6)
    initial = base64.b64encode(json.dumps({"n": 1, "tag": "forged"}).encode()).decode()
    bogus = json.dumps([{"messageId": "msg_forged", "body": initial, "callType": "step"}])
    continuation = {"Upstash-Workflow-Sdk-Version": "1", "Upstash-Workflow-RunId": fake_run, "Content-Type": "application/json"}
    now = int(time.time())
    forged = jwt.encode(
        {"iss": "Upstash", "sub": f"{h.app_url}/wf/signed", "iat": now, "nbf": now, "exp": now + 300, "jti": "jwt_forged",
         "body": base64.urlsafe_b64encode(__import__("hashlib").sha256(bogus.encode()).digest()).decode().rstrip("=")},
        "sig_not_the_real_key_" + secrets.token_hex(16), algorithm="HS256")
    attempts = [
        ("an unsigned continuation request", continuation, bogus),
        ("an unsigned first invocation", {"Content-Type": "application/json"}, json.dumps({"n": 1, "tag": "forged"})),
        ("a continuation signed with a wrong key", {**continuation, "Upstash-Signature": forged}, bogus),
    ]
    for label, headers, body in attempts:
        answer = h.app("POST", "/wf/signed", headers=headers, content=body)
        if 200 <= answer.status_code < 300:
            raise Fail(f"{label} to the signed endpoint: expected the SDK to refuse it (non-2xx), got {answer.status_code} {short(answer.text, 200)}")
    if h.result(fake_run) is not None:
        raise Fail(f"the forged run {fake_run} ran workflow code")


def scenario_sleep(h: Harness, deadline: float) -> None:
    run_id = h.start_run("sleep", {"tag": new_tag("sleep")})
    h.wait_run(run_id, "succeeded", deadline)
    rec = h.wait_app(run_id, "the workflow function return", lambda r: r.get("finished"), deadline)
    r = rec["result"]
    pause = r["t1"] - r["t0"]
    if pause < 1.95:
        raise Fail(f"run {run_id}: context.sleep('pause', 2) should delay the next step by >= 2 s, it took {pause:.2f} s")
    if r["t2"] < r["target"] - 0.1:
        raise Fail(f"run {run_id}: context.sleep_until('until', {r['target']}) let the next step run at {r['t2']:.2f}, "
                   f"{r['target'] - r['t2']:.2f} s early")
    if r["t2"] - r["t1"] < 1.9:
        raise Fail(f"run {run_id}: sleep_until(ceil(t1)+2) should delay by >= 2 s, it took {r['t2'] - r['t1']:.2f} s")
    expect_counts(run_id, rec["executions"], {"t0": 1, "t1": 1, "t2": 1})


def scenario_call(h: Harness, deadline: float) -> None:
    tag = new_tag("call")
    run_id = h.start_run("call", {"tag": tag})
    h.wait_run(run_id, "succeeded", deadline)
    rec = h.wait_app(run_id, "the workflow function return", lambda r: r.get("finished"), deadline)
    result = rec["result"]
    for method, part in (("POST", "post"), ("GET", "get")):
        got = result[part]
        what = f"run {run_id}: context.call {method} /third-party/echo"
        expect_equal(f"{what}: status", got["status"], 201)
        body = got["body"]
        if not isinstance(body, dict):
            raise Fail(f"{what}: body should be the JSON the third party answered, got {short(body, 200)}")
        expect_equal(f"{what}: body.method", body.get("method"), method)
        expect_equal(f"{what}: body.custom (the X-Custom header the third party received)", body.get("custom"), f"custom-{part}")
        if method == "POST":
            expect_equal(f"{what}: body.echo (the request body the third party received)", json.loads(body.get("echo") or "null"),
                         {"ping": tag})
        reply = header_value(got["header"], "X-Echo-Reply")
        expect_equal(f"{what}: response header X-Echo-Reply in the call result", reply, f"echo-{part}")
    seen = rec["thirdParty"]
    methods = sorted(r["method"] for r in seen)
    expect_equal(f"run {run_id}: requests the third party received (methods)", methods, ["GET", "POST"])
    for r in seen:
        if "upstash-workflow-sdk-version" in r["headers"]:
            raise Fail(f"run {run_id}: the third party received Upstash-Workflow-Sdk-Version (it must not leak to call targets)")
    expect_counts(run_id, rec["executions"], {"inspect-post": 1})


def scenario_flaky(h: Harness, deadline: float) -> None:
    run_id = h.start_run("flaky", {"tag": new_tag("flaky")})
    h.wait_run(run_id, "succeeded", deadline)
    rec = h.wait_app(run_id, "the workflow function return", lambda r: r.get("finished"), deadline)
    expect_equal(f"run {run_id}: result", rec["result"], {"shaky": {"attempts": 3}, "after": "done"})
    expect_counts(run_id, rec["executions"], {"shaky": 3, "after": 1})
    failed = [r for r in rec["requests"] if r.get("status") == 500]
    if len(failed) != 2:
        raise Fail(f"run {run_id}: expected 2 deliveries answered 500 (then retried), saw {len(failed)}: {short(rec['requests'], 400)}")


def scenario_failure_function(h: Harness, deadline: float) -> None:
    payload = {"n": 3, "tag": new_tag("failure-function"), "note": "initial payload"}
    run_id = h.start_run("failure_function", payload)
    h.wait_run(run_id, "failed", deadline)
    rec = h.wait_app(run_id, "the failure_function call", lambda r: r.get("failure") is not None, deadline)
    failure = rec["failure"]
    expect_equal(f"run {run_id}: failure_function's fail_status", failure["status"], 500)
    if "doomed step always fails" not in str(failure["response"]):
        raise Fail(f"run {run_id}: failure_function's fail_response should carry the step's error message, got {short(failure['response'], 200)}")
    expect_equal(f"run {run_id}: context.request_payload in the failure function (decoded sourceBody)", failure["payload"], payload)
    expect_equal(f"run {run_id}: context.url in the failure function (the callback's url)", failure["url"], f"{h.app_url}/wf/failure_function")
    expect_counts(run_id, rec["executions"], {"fine": 1, "doomed": 2})  # Upstash-Retries: 1 -> two attempts
    time.sleep(0.5)  # a short grace period to catch a repeated failure callback
    rec = h.result(run_id) or rec
    expect_equal(f"run {run_id}: times the failure function ran", rec["failure"]["count"], 1)


def scenario_call_lost(h: Harness, deadline: float) -> None:
    """A context.call whose callback the endpoint never takes (down whenever it comes): once the
    callback's retries are spent the run fails instead of waiting for ever, its failure function
    runs with the initial payload, and the run is in the DLQ."""
    payload = {"tag": new_tag("call-lost"), "note": "initial payload"}
    run_id = h.start_run("call_lost", payload)
    h.wait_run(run_id, "failed", deadline)
    rec = h.wait_app(run_id, "the failure_function call", lambda r: r.get("failure") is not None, deadline)
    expect_equal(f"run {run_id}: context.request_payload in the failure function", rec["failure"]["payload"], payload)
    expect_equal(f"run {run_id}: the step after the call never ran", dict(rec["executions"]).get("after", 0), 0)
    time.sleep(0.5)  # a short grace period to catch a repeated failure callback
    rec = h.result(run_id) or rec
    expect_equal(f"run {run_id}: times the failure function ran", rec["failure"]["count"], 1)
    callbacks = [r for r in h.app("GET", "/requests").json() if r.get("runId") == run_id and r.get("callback")]
    if len(callbacks) < 2:
        raise Fail(f"run {run_id}: expected the callback tried twice (retries=1), the endpoint saw {short(callbacks, 300)}")
    listed = h.api("GET", f"/v2/workflows/dlq?workflowRunId={run_id}").json().get("messages", [])
    if run_id not in [m.get("workflowRunId") for m in listed]:
        raise Fail(f"run {run_id}: should be in the DLQ, GET /v2/workflows/dlq lists {short(listed, 300)}")


def scenario_misrouted(h: Harness, deadline: float) -> None:
    """A workflow whose `url=` names a route that is no workflow endpoint: the SDK's trigger asks
    for WF_DetectTrigger, the route answers 201 without Upstash-Workflow-Sdk-Version, and the run
    fails at once, in the DLQ, instead of waiting for steps that never come."""
    run_id = h.start_run("misrouted", {"tag": new_tag("misrouted")})
    body = h.wait_run(run_id, "failed", deadline)
    if "detected a non-workflow destination" not in str(body.get("error")):
        raise Fail(f"run {run_id}: the error should name the non-workflow destination, got {short(body.get('error'), 300)}")
    listed = h.api("GET", f"/v2/workflows/dlq?workflowRunId={run_id}").json().get("messages", [])
    if run_id not in [m.get("workflowRunId") for m in listed]:
        raise Fail(f"run {run_id}: should be in the DLQ, GET /v2/workflows/dlq lists {short(listed, 300)}")


def scenario_failure_url(h: Harness, deadline: float) -> None:
    payload = {"n": 4, "tag": new_tag("failure-url")}
    run_id = h.start_run("failure_url", payload)
    h.wait_run(run_id, "failed", deadline)
    rec = h.wait_app(run_id, "a failure callback on POST /failure-sink", lambda r: bool(r.get("failureSink")), deadline)
    callback = rec["failureSink"][0]
    body = callback["json"]
    if not isinstance(body, dict):
        raise Fail(f"run {run_id}: the failure callback body should be JSON, got {short(callback['raw'], 300)}")
    missing = [k for k in ("status", "header", "body", "url", "sourceBody", "workflowRunId") if k not in body]
    if missing:
        raise Fail(f"run {run_id}: the failure callback JSON lacks {missing} (the SDKs index them): {short(body, 400)}")
    expect_equal(f"run {run_id}: failure callback status", body["status"], 500)
    expect_equal(f"run {run_id}: failure callback workflowRunId", body["workflowRunId"], run_id)
    expect_equal(f"run {run_id}: failure callback url", body["url"], f"{h.app_url}/wf/failure_url")
    expect_equal(f"run {run_id}: failure callback sourceBody (base64 of the initial payload)", json.loads(b64text(body["sourceBody"])), payload)
    failing = b64text(body["body"])
    if "doomed step always fails" not in failing:
        raise Fail(f"run {run_id}: failure callback body should be base64 of the endpoint's 500 answer, decodes to {short(failing, 200)}")
    expect_equal(f"run {run_id}: header Upstash-Workflow-Is-Failure on the failure callback (forwarded)",
                 callback["headers"].get("upstash-workflow-is-failure"), "true")
    signature = callback["headers"].get("upstash-signature")
    if not signature:
        raise Fail(f"run {run_id}: the failure callback carries no Upstash-Signature")
    keys = h.keys()
    try:
        Receiver(keys["current"], keys["next"]).verify(signature=signature, body=callback["raw"], url=f"{h.app_url}/failure-sink")
    except Exception as error:  # noqa: BLE001
        raise Fail(f"run {run_id}: the failure callback's Upstash-Signature does not verify (keys from /v2/keys, sub = sink URL): {error}")
    expect_counts(run_id, rec["executions"], {"fine": 1, "doomed": 2})
    time.sleep(0.5)
    expect_equal(f"run {run_id}: failure callbacks received", len((h.result(run_id) or rec)["failureSink"]), 1)


def scenario_cancel(h: Harness, deadline: float) -> None:
    run_id = h.start_run("long", {"tag": new_tag("cancel")})
    rec = h.wait_app(run_id, "the step before the sleep", lambda r: r["executions"].get("reached-sleep", 0) >= 1, deadline)
    # Wait (at most 2 s) until Stepwise lists the sleep step, so the cancel lands mid-sleep.
    soon = time.monotonic() + 2
    while time.monotonic() < soon:
        code, body = h.run_status(run_id)
        steps = body.get("steps") if isinstance(body, dict) else None
        if isinstance(steps, list) and any(isinstance(s, dict) and s.get("stepName") == "wait" for s in steps):
            break
        time.sleep(POLL)
    answer = h.api("DELETE", f"/v2/workflows/runs/{run_id}?cancel=true")
    if not 200 <= answer.status_code < 300:
        raise Fail(f"DELETE /v2/workflows/runs/{run_id}?cancel=true: expected 2xx, got {answer.status_code} {short(answer.text, 200)}")
    canceled_at = time.time()
    h.wait_run(run_id, "canceled", min(deadline, time.monotonic() + 10))
    sleep_started = next(e["t"] for e in rec["events"] if e["event"] == "reached-sleep")
    quiet_until = time.monotonic() + max(0.0, sleep_started + LONG_SLEEP + 3 - time.time())
    while time.monotonic() < min(quiet_until, deadline):  # past the end of the sleep: nothing may happen
        time.sleep(POLL)
        h.check_alive()
    rec = h.result(run_id) or rec
    if rec["executions"].get("after"):
        raise Fail(f"run {run_id}: the step after the sleep ran although the run was canceled")
    late = [r for r in rec["requests"] if r["t"] > canceled_at]
    if late:
        raise Fail(f"run {run_id}: {len(late)} deliveries arrived after the cancel: {short(late, 300)}")
    code, body = h.run_status(run_id)
    expect_equal(f"run {run_id}: status {LONG_SLEEP + 3} s after the cancel", body.get("status") if isinstance(body, dict) else body, "canceled")


def _dlq_entries(body: Any) -> List[Dict[str, Any]]:
    if isinstance(body, dict):
        for key in ("messages", "dlq", "entries", "items"):
            if isinstance(body.get(key), list):
                return body[key]
        return []
    return body if isinstance(body, list) else []


def scenario_dlq_resume(h: Harness, deadline: float) -> None:
    h.app("POST", "/control/break")
    tag = new_tag("dlq")
    run_id = h.start_run("resumable", {"n": 4, "tag": tag})
    h.wait_run(run_id, "failed", deadline)
    answer = h.api("GET", f"/v2/workflows/dlq?workflowRunId={run_id}")
    if answer.status_code != 200:
        raise Fail(f"GET /v2/workflows/dlq: expected 200, got {answer.status_code} {short(answer.text, 200)}")
    entries = _dlq_entries(answer.json())
    entry = next((e for e in entries if isinstance(e, dict) and (e.get("workflowRunId") or e.get("runId")) == run_id), None)
    if entry is None:
        raise Fail(f"GET /v2/workflows/dlq: expected an entry with workflowRunId {run_id}, got {short(answer.json(), 500)}")
    dlq_id = entry.get("dlqId") or entry.get("id")
    if not dlq_id:
        raise Fail(f"DLQ entry of {run_id} has neither dlqId nor id: {short(entry, 300)}")
    h.app("POST", "/control/fix")
    answer = h.api("POST", f"/v2/workflows/dlq/resume/{dlq_id}")
    if not 200 <= answer.status_code < 300:
        raise Fail(f"POST /v2/workflows/dlq/resume/{dlq_id}: expected 2xx, got {answer.status_code} {short(answer.text, 200)}")
    try:
        resumed = answer.json()
    except ValueError:
        resumed = {}
    new_id = (resumed.get("workflowRunId") if isinstance(resumed, dict) else None) or run_id
    h.wait_run(new_id, "succeeded", deadline)
    while True:
        runs = h.runs_by_tag(tag)
        done = [r for r in runs if r.get("finished")]
        if done:
            break
        if time.monotonic() >= deadline:
            raise Fail(f"run {new_id} succeeded in stepwise but the app never saw the workflow function return; " + h.app_note(new_id))
        time.sleep(POLL)
    expect_equal(f"run {new_id}: result after resume", done[0]["result"], {"a": 5, "b": 50, "c": "resumed:50"})
    executions = h.app("GET", "/results", params={"tag": tag}).json()["tagExecutions"]
    expect_counts(new_id, executions, {"prepare": 1, "fragile": 3, "wrap-up": 1})


def scenario_dlq_resume_overrides(h: Harness, deadline: float) -> None:
    """A run of an SDK endpoint with no retries (the SDK says `Upstash-Retries: 0` on every
    message) is resumed with `Upstash-Retries: 1` and a new label: its later step, failing once,
    is retried, so the override won over the SDK's own option."""
    tag = new_tag("strict")
    run_id = h.start_run("strict", {"tag": tag})
    h.wait_run(run_id, "failed", deadline)
    label = f"retried-{tag}"
    answer = h.api("POST", f"/v2/workflows/dlq/resume?dlqIds=dlq_{run_id}", headers={"Upstash-Retries": "1", "Upstash-Label": label})
    resumed = answer.json() if answer.status_code == 200 else {}
    if [r.get("workflowRunId") for r in resumed.get("workflowRuns", [])] != [run_id]:
        raise Fail(f"POST /v2/workflows/dlq/resume?dlqIds=dlq_{run_id} with Upstash-Retries: expected the run resumed, got {answer.status_code} {short(answer.text, 300)}")
    h.wait_run(run_id, "succeeded", deadline)
    while not [r for r in h.runs_by_tag(tag) if r.get("finished")]:
        if time.monotonic() >= deadline:
            raise Fail(f"run {run_id} succeeded in stepwise but the app never saw the workflow function return; " + h.app_note(run_id))
        time.sleep(POLL)
    executions = h.app("GET", "/results", params={"tag": tag}).json()["tagExecutions"]
    expect_counts(run_id, executions, {"first": 2, "second": 2})
    listed = h.api("GET", f"/api/runs?label={label}").json()
    if run_id not in json.dumps(listed):
        raise Fail(f"GET /api/runs?label={label} does not list the resumed run {run_id}: {short(listed, 300)}")


def _dlq_entry_when(h: Harness, run_id: str, what: str, ready: Callable[[Dict[str, Any]], bool], deadline: float) -> Dict[str, Any]:
    while True:
        answer = h.api("GET", f"/v2/workflows/dlq/dlq_{run_id}")
        entry = answer.json() if answer.status_code == 200 else {}
        if ready(entry):
            return entry
        if time.monotonic() >= deadline:
            raise Fail(f"run {run_id}: {what} never shown in its DLQ entry; last answer {answer.status_code} {short(answer.text, 300)}")
        time.sleep(POLL)


def scenario_failure_function_retried(h: Harness, deadline: float) -> None:
    payload = {"n": 1, "tag": new_tag("failure-retried")}
    run_id = h.start_run("failure_retried", payload)
    h.wait_run(run_id, "failed", deadline)
    state = lambda e: (e.get("failureCallbackInfo") or {}).get("state")
    entry = _dlq_entry_when(h, run_id, "the failure function's failure", lambda e: state(e) == "CALLBACK_FAIL", deadline)
    expect_equal(f"run {run_id}: failureCallback of the DLQ entry", entry.get("failureCallback"), f"{h.app_url}/wf/failure_retried")
    expect_equal(f"run {run_id}: failureCallbackInfo.responseStatus", entry["failureCallbackInfo"].get("responseStatus"), 500)
    listed = _dlq_entries(h.api("GET", "/v2/workflows/dlq?failureFunctionState=CALLBACK_FAIL").json())
    if run_id not in [e.get("workflowRunId") for e in listed]:
        raise Fail(f"GET /v2/workflows/dlq?failureFunctionState=CALLBACK_FAIL does not list {run_id}: {short(listed, 300)}")
    answer = h.api("POST", f"/v2/workflows/dlq/callback/dlq_{run_id}")
    if answer.status_code != 200:
        raise Fail(f"POST /v2/workflows/dlq/callback/dlq_{run_id}: expected 200, got {answer.status_code} {short(answer.text, 200)}")
    rec = h.wait_app(run_id, "the failure function's second call", lambda r: r.get("failure") is not None, deadline)
    expect_equal(f"run {run_id}: the failure function's calls", rec.get("failureCalls"), 2)
    expect_equal(f"run {run_id}: context.request_payload in the retried failure function", rec["failure"]["payload"], payload)
    _dlq_entry_when(h, run_id, "the failure function's success", lambda e: state(e) == "CALLBACK_SUCCESS", deadline)


def scenario_twenty(h: Harness, deadline: float) -> None:
    count = 20
    started: Dict[int, str] = {}
    errors: List[str] = []
    lock = threading.Lock()

    def start(n: int) -> None:
        try:
            run_id = h.start_run("sequential", {"n": n, "tag": new_tag(f"twenty{n}")})
            with lock:
                started[n] = run_id
        except Exception as error:  # noqa: BLE001
            with lock:
                errors.append(f"n={n}: {error}")

    threads = [threading.Thread(target=start, args=(100 + i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    if errors or len(started) != count:
        raise Fail(f"{len(started)} of {count} concurrent starts succeeded; first error: {short(errors[0] if errors else 'none', 400)}")
    problems: List[str] = []
    for n, run_id in sorted(started.items()):
        try:
            check_arithmetic(h, run_id, n, deadline, "sequential")
        except Fail as error:
            problems.append(str(error))
    if problems:
        raise Fail(f"{len(problems)} of {count} concurrent runs went wrong; first: {problems[0]}")


YAML_WORKFLOW = """\
workflow: doubler
input: {type: object, required: [n], properties: {n: {type: integer}}}
steps:
  - id: pause
    sleep: 500ms
  - id: double
    set: {value: "${{ input.n * 2 }}"}
output: ${{ steps.double.value }}
"""


def scenario_yaml_runner_alongside(h: Harness, deadline: float) -> None:
    """A `stepwise runner` (YAML workflows over the Upstash protocol) and the SDK app on one engine at once."""
    folder = os.path.join(h.workdir, "runner-workflows")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "doubler.yaml"), "w") as file:
        file.write(YAML_WORKFLOW)
    port = free_port()
    log = os.path.join(h.workdir, "runner.log")
    runner = h._spawn("stepwise runner", [
        h.binary, "runner", "--workflows", folder, "--host", HOST, "--port", str(port), "--qstash-url", h.server_url,
        "--qstash-token", h.token, "--versions", os.path.join(h.workdir, "versions")], log)
    h._wait_http("stepwise runner", runner, f"http://{HOST}:{port}/health", log, 30)
    yaml_runs: Dict[int, str] = {}
    sdk_runs: Dict[int, str] = {}
    for n in range(5):
        answer = httpx.post(f"http://{HOST}:{port}/workflows/doubler", json={"n": n}, timeout=10)
        if answer.status_code != 200:
            raise Fail(f"the runner refused to start doubler: {answer.status_code} {short(answer.text)}")
        yaml_runs[n] = answer.json()["workflowRunId"]
        sdk_runs[n] = h.start_run("sequential", {"n": 300 + n, "tag": new_tag(f"alongside{n}")})
    for n, run_id in yaml_runs.items():
        run = h.wait_run(run_id, "succeeded", deadline)
        expect_equal(f"output of the YAML run {run_id}", run.get("output"), n * 2)
    for n, run_id in sdk_runs.items():
        check_arithmetic(h, run_id, 300 + n, deadline, "sequential")


def scenario_schedules(h: Harness, deadline: float) -> None:
    """The official client's schedule API: create (and replace), read, list, pause, resume, delete."""
    schedules = h.qstash().schedule
    destination = f"{h.app_url}/wf/sequential"
    try:
        created = schedules.create_json(
            destination=destination, cron="CRON_TZ=Europe/Berlin 30 2 1 * *", body={"n": 1, "tag": new_tag("schedule")},
            schedule_id="compat-monthly", retries=2, headers={"X-Team": "blue"},
            flow_control={"key": "compat-schedules", "parallelism": 2})
        expect_equal("the id create_json returned", created, "compat-monthly")
        replaced = schedules.create_json(
            destination=destination, cron="CRON_TZ=Europe/Berlin 30 2 1 * *", body={"n": 2}, schedule_id="compat-monthly")
        expect_equal("the id of the replaced schedule", replaced, "compat-monthly")
        schedule = schedules.get("compat-monthly")
        expect_equal("schedule.destination", schedule.destination, destination)
        expect_equal("schedule.cron", schedule.cron, "CRON_TZ=Europe/Berlin 30 2 1 * *")
        expect_equal("schedule.body (replaced)", json.loads(schedule.body), {"n": 2})
        if not schedule.next_schedule_time or schedule.next_schedule_time <= time.time() * 1000:
            raise Fail(f"schedule.next_schedule_time should be a future unix-ms time, got {schedule.next_schedule_time!r}")
        schedules.pause("compat-monthly")
        expect_equal("schedule.paused after pause()", schedules.get("compat-monthly").paused, True)
        schedules.resume("compat-monthly")
        expect_equal("schedule.paused after resume()", schedules.get("compat-monthly").paused, False)
        listed = [item.schedule_id for item in schedules.list()]
        if "compat-monthly" not in listed:
            raise Fail(f"schedule.list() does not list compat-monthly: {listed}")
        schedules.delete("compat-monthly")
    except Fail:
        raise
    except Exception as error:  # noqa: BLE001 -- QStashError carries status and body
        raise Fail(f"the qstash client's schedule API failed: {type(error).__name__}: {error}")
    if "compat-monthly" in [item.schedule_id for item in schedules.list()]:
        raise Fail("schedule.delete() left compat-monthly listed")


def scenario_flow_control(h: Harness, deadline: float) -> None:
    """The official client's flow-control API: a paused key's messages wait and are reported
    waiting, resume delivers them; pin, unpin, reset_rate; the global parallelism."""
    tag = new_tag("flow")
    key = f"compat-{tag}"
    client = h.qstash()
    flow = client.flow_control

    def received() -> int:
        return len(h.app("GET", f"/third-party/received?run={tag}").json())

    try:
        flow.pause(key)
        expect_equal("is_paused after pause()", flow.get(key).is_paused, True)
        for n in range(2):
            client.message.publish_json(
                url=f"{h.app_url}/third-party/echo", body={"n": n}, headers={"X-Run-Id": tag}, flow_control={"key": key, "parallelism": 3})
        info = flow.get(key)
        while time.monotonic() < deadline and info.wait_list_size < 2:
            time.sleep(0.1)
            info = flow.get(key)
        expect_equal("the paused key: wait_list_size, parallelism_max (its messages' own)", (info.wait_list_size, info.parallelism_max), (2, 3))
        expect_equal("messages delivered while paused", received(), 0)
        flow.resume(key)
        while time.monotonic() < deadline and received() < 2:
            time.sleep(0.1)
        expect_equal("messages delivered after resume()", received(), 2)
        info = flow.get(key)
        expect_equal("after resume(): is_paused, wait_list_size", (info.is_paused, info.wait_list_size), (False, 0))
        flow.pin(key, {"parallelism": 1, "rate": 10, "period": 60})
        info = flow.get(key)
        expect_equal("after pin(): is_pinned_parallelism, parallelism_max, is_pinned_rate, rate_max, rate_period",
                     (info.is_pinned_parallelism, info.parallelism_max, info.is_pinned_rate, info.rate_max, info.rate_period), (True, 1, True, 10, 60))
        flow.unpin(key, {"parallelism": True, "rate": True})
        info = flow.get(key)
        expect_equal("after unpin(): is_pinned_parallelism, is_pinned_rate", (info.is_pinned_parallelism, info.is_pinned_rate), (False, False))
        client.message.publish_json(
            url=f"{h.app_url}/third-party/echo", body={"n": 2}, headers={"X-Run-Id": tag}, flow_control={"key": key, "rate": 50, "period": "1h"})
        while time.monotonic() < deadline and received() < 3:
            time.sleep(0.1)
        info = flow.get(key)
        expect_equal("a rated message delivered: rate_count, rate_max, rate_period", (info.rate_count, info.rate_max, info.rate_period), (1, 50, 3600))
        flow.pin(key, {"parallelism": 2})
        flow.reset_rate(key)
        expect_equal("rate_count after reset_rate()", flow.get(key).rate_count, 0)
        flow.unpin(key, {"parallelism": True})
        overall = flow.get_global_parallelism()
        if overall.parallelism_max <= 0:
            raise Fail(f"get_global_parallelism().parallelism_max should be the server's --concurrency, got {overall.parallelism_max}")
    except Fail:
        raise
    except Exception as error:  # noqa: BLE001 -- QStashError carries status and body
        raise Fail(f"the qstash client's flow-control API failed: {type(error).__name__}: {error}")


def scenario_queues(h: Harness, deadline: float) -> None:
    """The official client's queue API and enqueue: a paused queue holds its messages in its lag,
    resume delivers them in the order enqueued; list and delete (also when a check fails)."""
    tag = new_tag("queue")
    name = f"compat-{tag}"
    client = h.qstash()
    queues = client.queue

    def bodies() -> List[int]:
        return [json.loads(r["body"])["n"] for r in sorted(h.app("GET", f"/third-party/received?run={tag}").json(), key=lambda r: r["t"])]

    try:
        queues.upsert(name, parallelism=1, paused=True)
        for n in range(3):
            answer = client.message.enqueue_json(queue=name, url=f"{h.app_url}/third-party/echo", body={"n": n}, headers={"X-Run-Id": tag})
            if not getattr(answer, "message_id", None):
                raise Fail(f"enqueue_json: expected a messageId in the answer, got {answer!r}")
        info = queues.get(name)
        expect_equal("the paused queue: paused, lag, parallelism", (info.paused, info.lag, info.parallelism), (True, 3, 1))
        time.sleep(0.5)  # a message a paused queue let go would arrive meanwhile
        expect_equal("messages delivered while paused", bodies(), [])
        queues.resume(name)
        while time.monotonic() < deadline and len(bodies()) < 3:
            time.sleep(0.1)
        expect_equal("the bodies delivered after resume(), in the order enqueued", bodies(), [0, 1, 2])
        if name not in [queue.name for queue in queues.list()]:
            raise Fail(f"queue.list() does not list {name}")
        queues.delete(name)
        if name in [queue.name for queue in queues.list()]:
            raise Fail(f"queue.delete() left {name} listed")
    except Fail:
        raise
    except Exception as error:  # noqa: BLE001 -- QStashError carries status and body
        raise Fail(f"the qstash client's queue API failed: {type(error).__name__}: {error}")
    finally:
        try:
            if name in [queue.name for queue in queues.list()]:
                queues.delete(name)
        except Exception:  # noqa: BLE001 -- cleanup only; the scenario's own outcome stands
            pass


def scenario_url_groups(h: Harness, deadline: float) -> None:
    """The official client's URL group API and a publish to a group: each endpoint receives the
    message; get, list, remove_endpoints (the group goes with its last endpoint), delete."""
    tag = new_tag("group")
    name = f"compat-{tag}"
    client = h.qstash()
    groups = client.url_group
    first, second = f"{h.app_url}/third-party/echo?to=first", f"{h.app_url}/third-party/echo?to=second"

    def queries() -> List[str]:
        return sorted(r["query"] for r in h.app("GET", f"/third-party/received?run={tag}").json())

    try:
        groups.upsert_endpoints(name, [{"url": first, "name": "first"}, {"url": second}])
        group = groups.get(name)
        expect_equal("the group's endpoints", sorted((e.url, e.name) for e in group.endpoints), [(first, "first"), (second, None)])
        answers = client.message.publish_json(url_group=name, body={"n": 1}, headers={"X-Run-Id": tag})
        expect_equal("publish_json(url_group=...) answers one message per endpoint", sorted(a.url for a in answers), [first, second])
        while time.monotonic() < deadline and len(queries()) < 2:
            time.sleep(0.1)
        expect_equal("the requests the endpoints received", queries(), ["to=first", "to=second"])
        if name not in [g.name for g in groups.list()]:
            raise Fail(f"url_group.list() does not list {name}")
        groups.remove_endpoints(name, [{"name": "first"}])
        expect_equal("the endpoints after remove_endpoints", [e.url for e in groups.get(name).endpoints], [second])
        groups.delete(name)
        if name in [g.name for g in groups.list()]:
            raise Fail(f"url_group.delete() left {name} listed")
    except Fail:
        raise
    except Exception as error:  # noqa: BLE001 -- QStashError carries status and body
        raise Fail(f"the qstash client's URL group API failed: {type(error).__name__}: {error}")


def gone(message: Any, message_id: str) -> Optional[bool]:
    """Whether `message.get(message_id)` answers 404 (True), the message (False); None otherwise."""
    try:
        message.get(message_id)
        return False
    except QStashError as error:
        return True if "404" in str(error) else None


def scenario_messages(h: Harness, deadline: float) -> None:
    """The official client's messages API: get a delayed message, cancel it, cancel_many and
    cancel_all of plain messages."""
    message = h.qstash().message
    url = f"{h.app_url}/third-party/echo"
    try:
        first = message.publish_json(url=url, body={"n": 1}, delay="1h", headers={"X-Run-Id": new_tag("messages")})
        read = message.get(first.message_id)
        expect_equal("message.get(): message_id, url, method, body", (read.message_id, read.url, read.method, read.body),
                     (first.message_id, url, "POST", json.dumps({"n": 1})))
        message.cancel(first.message_id)
        if gone(message, first.message_id) is not True:
            raise Fail("message.get() of a canceled message should fail with 404")
        ids = [message.publish_json(url=url, body={"n": n}, delay="1h").message_id for n in range(3)]
        expect_equal("cancel_many() of two", message.cancel_many(ids[:2]), 2)
        expect_equal("the third, not named, is still queued", gone(message, ids[2]), False)
        if message.cancel_all() < 1 or gone(message, ids[2]) is not True:
            raise Fail("cancel_all() should cancel the third delayed message")
    except Fail:
        raise
    except Exception as error:  # noqa: BLE001 -- QStashError carries status and body
        raise Fail(f"the qstash client's messages API failed: {type(error).__name__}: {error}")


def scenario_callbacks(h: Harness, deadline: float) -> None:
    """The official client's publish with a callback: the callback URL receives QStash's callback
    body with the destination's answer, signed; a failing destination's failure callback too."""
    client = h.qstash()
    tag = new_tag("callbacks")
    sink = f"{h.app_url}/callback-sink"
    try:
        delivered = client.message.publish_json(
            url=f"{h.app_url}/third-party/echo", body={"tag": tag}, headers={"X-Run-Id": tag}, callback=sink).message_id
        failed = client.message.publish_json(
            url=f"{h.app_url}/third-party/unavailable", body={"tag": tag}, retries=0, callback=sink, failure_callback=sink).message_id
    except Exception as error:  # noqa: BLE001 -- QStashError carries status and body
        raise Fail(f"QStash.message.publish_json(callback=..., failure_callback=...): {type(error).__name__}: {error}")

    def received(message_id: str) -> List[Dict[str, Any]]:
        return [c for c in h.app("GET", "/callback-sink").json() if (c.get("json") or {}).get("sourceMessageId") == message_id]

    while time.monotonic() < deadline and (len(received(delivered)), len(received(failed))) != (1, 2):
        time.sleep(0.2)
    calls = received(delivered)
    expect_equal("callbacks of the delivered message", len(calls), 1)
    body = calls[0]["json"]
    expect_equal("its callback's status, answer and source body",
                 (body.get("status"), json.loads(b64text(body.get("body"))).get("echo"), json.loads(b64text(body.get("sourceBody")))),
                 (201, json.dumps({"tag": tag}), {"tag": tag}))
    expect_equal("the callback is signed", calls[0]["signed"], True)
    statuses = sorted(c["json"].get("status") for c in received(failed))
    expect_equal("the failing message's callback and failure callback both carry its 503", statuses, [503, 503])


def scenario_dlq(h: Harness, deadline: float) -> None:
    """The official client's DLQ of plain messages: messages that give up land there with the
    last answer; list with a filter and a cursor, get, delete and delete_many."""
    client = h.qstash()
    url = f"{h.app_url}/third-party/unavailable"
    tag = new_tag("dlq")
    try:
        ids = [client.message.publish_json(url=url, body={"n": n}, retries=0, label=tag).message_id for n in range(3)]
        listed: List[Any] = []
        while time.monotonic() < deadline and len(listed) < 3:
            time.sleep(0.2)
            listed = client.dlq.list(filter={"label": tag}).messages
        expect_equal("dlq.list(label) holds the three failed messages", sorted(m.message_id for m in listed), sorted(ids))
        first = client.dlq.list(count=2, filter={"label": tag})
        rest = client.dlq.list(cursor=first.cursor, filter={"label": tag}) if first.cursor else None
        expect_equal("dlq.list pages of 2 then 1, the last with no cursor",
                     (len(first.messages), rest and len(rest.messages), rest and rest.cursor), (2, 1, None))
        entry = client.dlq.get(listed[0].dlq_id)
        expect_equal("dlq.get(): url, response status, body and header", (entry.url, entry.response_status,
                     json.loads(entry.response_body or "{}").get("error"), (entry.response_headers or {}).get("X-Reason")),
                     (url, 503, "down for maintenance", ["maintenance"]))
        client.dlq.delete(listed[0].dlq_id)
        expect_equal("delete_many() of the other two", client.dlq.delete_many([m.dlq_id for m in listed[1:]]), 2)
        expect_equal("the DLQ holds none of them", client.dlq.list(filter={"label": tag}).messages, [])
    except Fail:
        raise
    except Exception as error:  # noqa: BLE001 -- QStashError carries status and body
        raise Fail(f"the qstash client's DLQ API failed: {type(error).__name__}: {error}")


def scenario_events(h: Harness, deadline: float) -> None:
    """The official client's message log: a delivered message's CREATED and DELIVERED events, a
    failing one's CREATED, ERROR and FAILED, read with filters and a cursor."""
    from qstash.log import LogState

    client = h.qstash()
    tag = new_tag("events")

    try:
        delivered = client.message.publish_json(url=f"{h.app_url}/third-party/echo", body={"n": 1}, label=tag).message_id
        failed = client.message.publish_json(url=f"{h.app_url}/third-party/unavailable", body={"n": 2}, retries=0, label=tag).message_id

        def states(message_id: str) -> List[str]:
            return [log.state.value for log in log_list(client, filter={"message_id": message_id}).logs]

        while time.monotonic() < deadline and (states(delivered)[:1], states(failed)[:1]) != (["DELIVERED"], ["FAILED"]):
            time.sleep(0.2)
        expect_equal("a delivered message's events, newest first", states(delivered), ["DELIVERED", "CREATED"])
        expect_equal("a failing message's events, newest first", states(failed), ["FAILED", "ERROR", "CREATED"])
        error = log_list(client, filter={"message_id": failed, "state": LogState.ERROR}).logs[0]
        expect_equal("the ERROR event's response status and url", (error.response_status, error.url),
                     (503, f"{h.app_url}/third-party/unavailable"))
        private = client.message.publish_json(url=f"{h.app_url}/third-party/echo", body={"card": "4242"}, headers={"X-Worker-Secret": "s3cret"},
                                              redact={"body": True, "header": ["X-Worker-Secret"]}).message_id
        shown = log_list(client, filter={"message_id": private, "state": LogState.CREATED}).logs[0]
        secret = (shown.headers or {}).get("X-Worker-Secret", [""])[0]
        body = base64.b64decode(shown.body_base64 or "").decode("utf-8", "replace")
        if not secret.startswith("REDACTED:") or not body.startswith("REDACTED:") or "4242" in body:
            raise Fail(f"publish_json(redact=...) should show header and body as REDACTED:<sha256>, got {secret!r} and {body!r}")
        first = log_list(client, count=3, filter={"label": tag})
        rest = log_list(client, cursor=first.cursor, filter={"label": tag}) if first.cursor else None
        expect_equal("pages of 3 then 2 by label, the last with no cursor",
                     (len(first.logs), rest and len(rest.logs), rest and rest.cursor), (3, 2, None))
    except Fail:
        raise
    except Exception as error:  # noqa: BLE001 -- QStashError carries status and body
        raise Fail(f"the qstash client's log API failed: {type(error).__name__}: {error}")


SCENARIOS: List[Tuple[str, Callable[[Harness, float], None]]] = [
    ("bad_token", scenario_bad_token),
    ("sequential", scenario_sequential),
    ("publish_json", scenario_publish_json),
    ("publish_deduplicated", scenario_publish_deduplicated),
    ("signed", scenario_signed),
    ("signature_rejected", scenario_signature_rejected),
    ("sleep", scenario_sleep),
    ("call", scenario_call),
    ("flaky", scenario_flaky),
    ("rest_trigger", scenario_rest_trigger),
    ("singleton", scenario_singleton),
    ("failure_function", scenario_failure_function),
    ("failure_function_retried", scenario_failure_function_retried),
    ("failure_url", scenario_failure_url),
    ("call_lost", scenario_call_lost),
    ("misrouted", scenario_misrouted),
    ("cancel", scenario_cancel),
    ("dlq_resume", scenario_dlq_resume),
    ("dlq_resume_overrides", scenario_dlq_resume_overrides),
    ("twenty", scenario_twenty),
    ("yaml_runner_alongside", scenario_yaml_runner_alongside),
    ("schedules", scenario_schedules),
    ("flow_control", scenario_flow_control),
    ("queues", scenario_queues),
    ("url_groups", scenario_url_groups),
    ("messages", scenario_messages),
    ("callbacks", scenario_callbacks),
    ("dlq", scenario_dlq),
    ("events", scenario_events),
]


def run_scenario(h: Harness, name: str, fn: Callable[[Harness, float], None]) -> Optional[str]:
    """Runs one scenario in a watchdog thread; returns None on success, else the reason."""
    outcome: Dict[str, Optional[str]] = {}

    def body() -> None:
        try:
            fn(h, time.monotonic() + SCENARIO_TIMEOUT - 5)
            outcome["error"] = None
        except Fail as error:
            outcome["error"] = str(error)
        except Exception as error:  # noqa: BLE001
            outcome["error"] = f"unexpected {type(error).__name__}: {error}"
            if h.verbose:
                traceback.print_exc()

    thread = threading.Thread(target=body, name=f"scenario-{name}", daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(SCENARIO_TIMEOUT)
    if thread.is_alive():
        return f"timed out after {SCENARIO_TIMEOUT:.0f} s (a request to stepwise or the app hung)"
    if h.verbose:
        print(f"  ({name}: {time.monotonic() - started:.1f} s)", flush=True)
    return outcome.get("error", "scenario ended without an outcome")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary", help="path to the stepwise executable")
    parser.add_argument("--only", help="comma-separated scenario names to run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, database)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    binary = os.path.abspath(args.binary)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        sys.stderr.write(f"not an executable file: {args.binary}\n")
        return 2
    selected = SCENARIOS
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in dict(SCENARIOS)]
        if unknown:
            sys.stderr.write(f"unknown scenario(s) {unknown}; known: {[n for n, _ in SCENARIOS]}\n")
            return 2
        selected = [(n, f) for n, f in SCENARIOS if n in names]

    workdir = tempfile.mkdtemp(prefix="upstash-compat-")
    harness = Harness(binary, workdir, args.verbose)

    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    passed = failed = 0
    try:
        try:
            harness.start()
            if args.verbose:
                print(f"stepwise on {harness.server_url}, app on {harness.app_url}, logs in {workdir}", flush=True)
            setup_error = None
        except Fail as error:
            setup_error = str(error)
            print("FAIL setup: " + setup_error.strip().replace("\n", "\n    "), flush=True)
        for name, fn in selected:
            if setup_error is not None:
                print(f"FAIL {name}: not run, setup failed", flush=True)
                failed += 1
                continue
            reason = run_scenario(harness, name, fn)
            if reason is None:
                print(f"PASS {name}", flush=True)
                passed += 1
            else:
                print(f"FAIL {name}: " + reason.strip().replace("\n", "\n    "), flush=True)
                failed += 1
    except KeyboardInterrupt:
        print("interrupted; stopping the processes", flush=True)
        failed += 1
    finally:
        harness.stop()
        if failed or args.keep:
            print(f"logs and database kept in {workdir} (server.log, app.log)", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
