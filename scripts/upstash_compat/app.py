"""Workflow endpoints for the Upstash compatibility suite, written against the official SDK.

A FastAPI app served with `upstash_workflow.fastapi.Serve` (the async flavour of
`upstash-workflow` 2.0.0). Every workflow records what happened into app memory, which the
driver (`suite.py`) reads back:

    GET  /results                 every run record (optionally ?tag=<payload tag>)
    GET  /results/{run_id}        one run record, 404 when the app never saw the run
    GET  /failure-sink            every failure callback received on POST /failure-sink
    POST /control/fix             lets the `resumable` workflow's fragile step succeed
    POST /control/break           makes it fail again (the default)

Workflows (all POST /wf/<name>; the initial payload is a JSON object, usually with a `tag`
that the driver uses to find runs it did not start itself, and `n` for the arithmetic ones):

    sequential        n -> n+1 -> *10 -> str
    signed            the same, but every request must carry a valid Upstash-Signature
    sleep             sleep 2 s, sleep_until ceil(t1)+2, step timestamps recorded
    call              context.call POST and GET to /third-party/echo (answers 201)
    flaky             a step that raises on its first two attempts
    failure_function  a step that always raises; failure_function records the callback
    failure_url       a step that always raises; failure_url = POST /failure-sink
    call_lost         a context.call whose answer never gets through (503 for callbacks); failure_function records
    failure_retried   a step that always raises (no retries); its failure_function raises the first time it runs
    misrouted         its `url=` names /third-party/echo, no workflow endpoint: its trigger goes there
    long              a step, then a LONG_SLEEP (default 8 s) sleep, then a step
    resumable         a step, a step failing while "broken", a step
    strict            no retries; two steps, each raising on its first attempt

Environment: QSTASH_URL and QSTASH_TOKEN (read by the SDK), UPSTASH_WORKFLOW_URL (the SDK's
`base_url`: the loopback origin of this app, e.g. http://127.0.0.1:8123, which the SDK puts in
front of the request path to compute each workflow URL; also used here to build the
third-party and failure-sink URLs), LONG_SLEEP (seconds). QSTASH_CURRENT_SIGNING_KEY /
QSTASH_NEXT_SIGNING_KEY must NOT be set: they would switch verification on for every route.
The `signed` route gets its own receiver whose keys come from GET {QSTASH_URL}/v2/keys.

Run it: QSTASH_URL=... QSTASH_TOKEN=... UPSTASH_WORKFLOW_URL=http://127.0.0.1:8123 \
        python -m uvicorn app:app --app-dir scripts/upstash_compat --host 127.0.0.1 --port 8123
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections import defaultdict
from typing import Any, Callable, Dict, List, Optional

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from qstash import Receiver
from upstash_workflow import AsyncWorkflowContext
from upstash_workflow.fastapi import Serve

log = logging.getLogger("upstash_compat.app")

QSTASH_URL = os.environ.get("QSTASH_URL", "").rstrip("/")
QSTASH_TOKEN = os.environ.get("QSTASH_TOKEN", "")
BASE_URL = os.environ.get("UPSTASH_WORKFLOW_URL", "http://127.0.0.1:8000").rstrip("/")
LONG_SLEEP = int(os.environ.get("LONG_SLEEP", "8"))

app = FastAPI(title="stepwise upstash compatibility app")
serve = Serve(app)

# ---------------------------------------------------------------------------------------------
# In-memory records
# ---------------------------------------------------------------------------------------------

_lock = threading.Lock()
RUNS: Dict[str, Dict[str, Any]] = {}              # run id -> record
TAG_EXECUTIONS: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))  # tag -> step -> count
REQUESTS: List[Dict[str, Any]] = []               # every request to /wf/* (headers summary)
THIRD_PARTY: List[Dict[str, Any]] = []            # every request to /third-party/echo
FAILURE_SINK: List[Dict[str, Any]] = []           # every request to /failure-sink
CALLBACKS: List[Dict[str, Any]] = []              # every QStash callback to /callback-sink
FLAKY_ATTEMPTS: Dict[str, int] = defaultdict(int)  # run id -> attempts of the flaky step
FIRST_ATTEMPTS: Dict[str, int] = defaultdict(int)  # "<run id>/<step>" -> attempts of the strict workflow's steps
STATE = {"broken": True}                           # the resumable workflow's switch


def _tag_of(payload: Any) -> Optional[str]:
    return payload.get("tag") if isinstance(payload, dict) else None


def _record(context: AsyncWorkflowContext, workflow: str) -> Dict[str, Any]:
    """The record of the context's run, created on first use (call with _lock held). A run id
    that comes with another payload tag is a new run of a reused id (Upstash releases the id of
    a run that ended): it gets a new record."""
    run_id = context.workflow_run_id
    rec = RUNS.get(run_id)
    if rec is None or rec["tag"] != _tag_of(context.request_payload):
        rec = {
            "workflowRunId": run_id,
            "workflow": workflow,
            "url": context.url,
            "payload": context.request_payload,
            "tag": _tag_of(context.request_payload),
            "events": [],
            "executions": defaultdict(int),
            "result": None,
            "finished": False,
            "finishedAt": None,
            "failure": None,
        }
        RUNS[run_id] = rec
    return rec


def event(context: AsyncWorkflowContext, workflow: str, name: str, **data: Any) -> None:
    """Notes that step code `name` ran (counted per run and per payload tag)."""
    with _lock:
        rec = _record(context, workflow)
        rec["events"].append({"event": name, "t": time.time(), **data})
        rec["executions"][name] += 1
        tag = rec["tag"]
        if tag:
            TAG_EXECUTIONS[tag][name] += 1


def finish(context: AsyncWorkflowContext, workflow: str, result: Any) -> None:
    """Notes that the route function returned (every step replayed) with `result`."""
    with _lock:
        rec = _record(context, workflow)
        rec["result"] = result
        if not rec["finished"]:
            rec["finished"] = True
            rec["finishedAt"] = time.time()
        rec["finishCount"] = rec.get("finishCount", 0) + 1


def _run_view(rec: Dict[str, Any]) -> Dict[str, Any]:
    run_id = rec["workflowRunId"]
    view = dict(rec)
    view["executions"] = dict(rec["executions"])
    view["requests"] = [r for r in REQUESTS if r.get("runId") == run_id]
    view["thirdParty"] = [r for r in THIRD_PARTY if r.get("runId") == run_id]
    view["failureSink"] = [r for r in FAILURE_SINK if r.get("runId") == run_id]
    if rec["tag"]:
        view["tagExecutions"] = dict(TAG_EXECUTIONS[rec["tag"]])
    return view


# ---------------------------------------------------------------------------------------------
# Bookkeeping routes
# ---------------------------------------------------------------------------------------------


@app.middleware("http")
async def refuse_call_callbacks(request: Request, call_next):
    """The `call_lost` workflow's endpoint is down whenever a call's answer comes back, so the
    call's callback can never be delivered (the SDK never sees it)."""
    if request.url.path == "/wf/call_lost" and "upstash-workflow-callback" in request.headers:
        return JSONResponse({"error": "down when the call's answer comes"}, status_code=503)
    return await call_next(request)


@app.middleware("http")
async def note_workflow_requests(request: Request, call_next):
    """Notes every request to a workflow route (who sent what), with the status answered."""
    if not request.url.path.startswith("/wf/"):
        return await call_next(request)
    h = request.headers
    entry = {
        "t": time.time(),
        "path": request.url.path,
        "runId": h.get("upstash-workflow-runid"),
        "sdkVersion": h.get("upstash-workflow-sdk-version"),
        "signed": "upstash-signature" in h,
        "callback": h.get("upstash-workflow-callback"),
        "isFailure": h.get("upstash-workflow-is-failure"),
        "retried": h.get("upstash-retried"),
        "messageId": h.get("upstash-message-id"),
    }
    response = await call_next(request)
    entry["status"] = response.status_code
    with _lock:
        REQUESTS.append(entry)
        if len(REQUESTS) > 20000:
            del REQUESTS[:5000]
    return response


@app.get("/results")
async def all_results(tag: Optional[str] = None) -> JSONResponse:
    with _lock:
        runs = [_run_view(r) for r in RUNS.values() if tag is None or r["tag"] == tag]
        body = {"runs": runs}
        if tag is not None:
            body["tagExecutions"] = dict(TAG_EXECUTIONS.get(tag, {}))
    return JSONResponse(json.loads(json.dumps(body, default=str)))


@app.get("/results/{run_id}")
async def one_result(run_id: str) -> JSONResponse:
    with _lock:
        rec = RUNS.get(run_id)
        if rec is None:
            body = {
                "error": f"no record of run {run_id}",
                "requests": [r for r in REQUESTS if r.get("runId") == run_id],
                "failureSink": [r for r in FAILURE_SINK if r.get("runId") == run_id],
            }
            return JSONResponse(json.loads(json.dumps(body, default=str)), status_code=404)
        view = _run_view(rec)
    return JSONResponse(json.loads(json.dumps(view, default=str)))


@app.get("/requests")
async def all_requests() -> JSONResponse:
    with _lock:
        return JSONResponse(list(REQUESTS))


@app.post("/control/fix")
async def control_fix() -> Dict[str, Any]:
    STATE["broken"] = False
    return {"broken": False}


@app.post("/control/break")
async def control_break() -> Dict[str, Any]:
    STATE["broken"] = True
    return {"broken": True}


@app.api_route("/third-party/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def third_party_echo(request: Request) -> JSONResponse:
    """A third-party API for context.call: answers 201, a JSON body and X-Echo-Reply."""
    raw = (await request.body()).decode("utf-8", "replace")
    headers = {k.lower(): v for k, v in request.headers.items()}
    entry = {
        "t": time.time(),
        "method": request.method,
        "query": str(request.url.query),
        "body": raw,
        "headers": headers,
        "runId": headers.get("x-run-id"),
    }
    with _lock:
        THIRD_PARTY.append(entry)
    return JSONResponse(
        {"echo": raw, "method": request.method, "custom": headers.get("x-custom")},
        status_code=201,
        headers={"X-Echo-Reply": "echo-" + request.method.lower()},
    )


@app.post("/third-party/unavailable")
async def third_party_unavailable() -> JSONResponse:
    """A destination that is down: answers 503 with a reason, so plain messages to it give up."""
    return JSONResponse({"error": "down for maintenance"}, status_code=503, headers={"X-Reason": "maintenance"})


@app.get("/third-party/received")
async def third_party_received(run: str) -> JSONResponse:
    """The requests /third-party/echo received with `X-Run-Id: <run>`."""
    with _lock:
        return JSONResponse(json.loads(json.dumps([r for r in THIRD_PARTY if r.get("runId") == run], default=str)))


@app.post("/failure-sink")
async def failure_sink(request: Request) -> Dict[str, Any]:
    """The failure_url of the `failure_url` workflow: a plain QStash failure callback."""
    raw = (await request.body()).decode("utf-8", "replace")
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    run_id = (body.get("workflowRunId") if isinstance(body, dict) else None) or headers.get(
        "upstash-workflow-runid"
    )
    with _lock:
        FAILURE_SINK.append({"t": time.time(), "runId": run_id, "raw": raw, "json": body, "headers": headers})
    return {"ok": True}


@app.get("/failure-sink")
async def failure_sink_list() -> JSONResponse:
    with _lock:
        return JSONResponse(list(FAILURE_SINK))


@app.post("/callback-sink")
async def callback_sink(request: Request) -> Dict[str, Any]:
    """The callback URL of plain messages: QStash's callback body after each delivery attempt."""
    raw = (await request.body()).decode("utf-8", "replace")
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    with _lock:
        CALLBACKS.append({"t": time.time(), "json": body, "signed": "upstash-signature" in request.headers})
    return {"ok": True}


@app.get("/callback-sink")
async def callback_sink_list() -> JSONResponse:
    with _lock:
        return JSONResponse(list(CALLBACKS))


# ---------------------------------------------------------------------------------------------
# Workflows
# ---------------------------------------------------------------------------------------------


async def _arithmetic(context: AsyncWorkflowContext, workflow: str) -> None:
    payload = context.request_payload
    n = payload["n"] if isinstance(payload, dict) else payload

    def add_one() -> int:
        event(context, workflow, "add-one")
        return n + 1

    a = await context.run("add-one", add_one)

    def times_ten() -> int:
        event(context, workflow, "times-ten")
        return a * 10

    b = await context.run("times-ten", times_ten)

    def stringify() -> str:
        event(context, workflow, "stringify")
        return str(b)

    c = await context.run("stringify", stringify)
    finish(context, workflow, {"a": a, "b": b, "c": c})


@serve.post("/wf/sequential")
async def wf_sequential(context: AsyncWorkflowContext) -> None:
    await _arithmetic(context, "sequential")


class KeysFromServer(Receiver):
    """A Receiver whose keys come from GET {QSTASH_URL}/v2/keys (fetched at startup, and again
    on first use when the server could not answer then). Fails closed without keys."""

    def __init__(self) -> None:
        super().__init__(current_signing_key="", next_signing_key="")
        self.keys_error: Optional[str] = None
        self.fetch()

    def fetch(self) -> bool:
        try:
            answer = httpx.get(
                f"{QSTASH_URL}/v2/keys", headers={"Authorization": f"Bearer {QSTASH_TOKEN}"}, timeout=5
            )
            answer.raise_for_status()
            keys = answer.json()
            self._current_signing_key, self._next_signing_key = keys["current"], keys["next"]
            if not (isinstance(self._current_signing_key, str) and self._current_signing_key):
                raise ValueError(f"bad keys answer {keys!r}")
            self.keys_error = None
            return True
        except Exception as error:  # noqa: BLE001 -- reported when a request arrives
            self.keys_error = f"GET {QSTASH_URL}/v2/keys failed: " + str(error).splitlines()[0]
            log.warning(self.keys_error)
            return False

    def verify(self, *, signature: str, body: str, url: Optional[str] = None, clock_tolerance: int = 0) -> None:
        if not self._current_signing_key and not self.fetch():
            raise ValueError(self.keys_error)
        super().verify(signature=signature, body=body, url=url, clock_tolerance=clock_tolerance)


SIGNED_RECEIVER = KeysFromServer()


@app.get("/signing-keys")
async def signing_keys() -> Dict[str, Any]:
    """Whether the signed route has keys (for diagnostics)."""
    return {"haveKeys": bool(SIGNED_RECEIVER._current_signing_key), "error": SIGNED_RECEIVER.keys_error}


@serve.post("/wf/signed", receiver=SIGNED_RECEIVER)
async def wf_signed(context: AsyncWorkflowContext) -> None:
    await _arithmetic(context, "signed")


@serve.post("/wf/sleep")
async def wf_sleep(context: AsyncWorkflowContext) -> None:
    w = "sleep"

    def stamp(name: str):
        def step() -> float:
            now = time.time()
            event(context, w, name, at=now)
            return now

        return step

    t0 = await context.run("t0", stamp("t0"))
    await context.sleep("pause", 2)
    t1 = await context.run("t1", stamp("t1"))
    target = math.ceil(t1) + 2  # computed from a memoized value: identical on every replay
    await context.sleep_until("until", target)
    t2 = await context.run("t2", stamp("t2"))
    finish(context, w, {"t0": t0, "t1": t1, "target": target, "t2": t2})


@serve.post("/wf/call")
async def wf_call(context: AsyncWorkflowContext) -> None:
    w = "call"
    run_id = context.workflow_run_id
    tag = _tag_of(context.request_payload)
    posted = await context.call(
        "echo-post",
        url=f"{BASE_URL}/third-party/echo?via=post",
        method="POST",
        body={"ping": tag},
        headers={"X-Run-Id": run_id, "X-Custom": "custom-post"},
    )

    def inspect_post() -> Dict[str, Any]:
        event(context, w, "inspect-post")
        return {"status": posted.status, "body": posted.body, "header": posted.header}

    post_view = await context.run("inspect-post", inspect_post)
    got = await context.call(
        "echo-get",
        url=f"{BASE_URL}/third-party/echo?via=get",
        headers={"X-Run-Id": run_id, "X-Custom": "custom-get"},
    )
    finish(context, w, {"post": post_view, "get": {"status": got.status, "body": got.body, "header": got.header}})


@serve.post("/wf/flaky")
async def wf_flaky(context: AsyncWorkflowContext) -> None:
    w = "flaky"
    run_id = context.workflow_run_id

    def shaky() -> Dict[str, Any]:
        with _lock:
            FLAKY_ATTEMPTS[run_id] += 1
            attempt = FLAKY_ATTEMPTS[run_id]
        event(context, w, "shaky", attempt=attempt)
        if attempt < 3:
            raise RuntimeError(f"flaky step fails on attempt {attempt}")
        return {"attempts": attempt}

    out = await context.run("shaky", shaky)

    def after() -> str:
        event(context, w, "after")
        return "done"

    done = await context.run("after", after)
    finish(context, w, {"shaky": out, "after": done})


async def _record_failure(context: AsyncWorkflowContext, fail_status: int, fail_response: str, fail_headers: Dict[str, Any]) -> None:
    with _lock:
        rec = _record(context, "failure_function")
        rec["failure"] = {
            "t": time.time(),
            "status": fail_status,
            "response": fail_response,
            "headers": fail_headers,
            "payload": context.request_payload,
            "url": context.url,
            "count": (rec["failure"] or {}).get("count", 0) + 1,
        }


async def _fine_then_doomed(context: AsyncWorkflowContext, w: str, message: str) -> None:
    """A step that succeeds, then one that always raises `message` (the failure workflows)."""

    def fine() -> str:
        event(context, w, "fine")
        return "fine"

    await context.run("fine", fine)

    def doomed() -> None:
        event(context, w, "doomed")
        raise RuntimeError(message)

    await context.run("doomed", doomed)
    finish(context, w, "unreachable")


@serve.post("/wf/failure_function", failure_function=_record_failure, retries=1)
async def wf_failure_function(context: AsyncWorkflowContext) -> None:
    await _fine_then_doomed(context, "failure_function", "doomed step always fails")


async def _failure_function_broken_once(context: AsyncWorkflowContext, fail_status: int, fail_response: str, fail_headers: Dict[str, Any]) -> None:
    with _lock:
        rec = _record(context, "failure_retried")
        rec["failureCalls"] = rec.get("failureCalls", 0) + 1
        if rec["failureCalls"] == 1:
            raise RuntimeError("the failure function is broken on its first call")
    await _record_failure(context, fail_status, fail_response, fail_headers)


@serve.post("/wf/failure_retried", failure_function=_failure_function_broken_once, retries=0)
async def wf_failure_retried(context: AsyncWorkflowContext) -> None:
    await _fine_then_doomed(context, "failure_retried", "doomed step always fails")


@serve.post("/wf/failure_url", failure_url=f"{BASE_URL}/failure-sink", retries=1)
async def wf_failure_url(context: AsyncWorkflowContext) -> None:
    await _fine_then_doomed(context, "failure_url", "doomed step always fails (failure_url)")


@serve.post("/wf/call_lost", failure_function=_record_failure, retries=1)
async def wf_call_lost(context: AsyncWorkflowContext) -> None:
    """A call whose answer never reaches the endpoint (see `refuse_call_callbacks`)."""
    w = "call_lost"
    await context.call("echo", url=f"{BASE_URL}/third-party/echo", method="POST", body={"ping": 1},
                       headers={"X-Run-Id": context.workflow_run_id})

    def after() -> str:
        event(context, w, "after")
        return "after"

    await context.run("after", after)
    finish(context, w, "unreachable")


@serve.post("/wf/misrouted", url=f"{BASE_URL}/third-party/echo")
async def wf_misrouted(context: AsyncWorkflowContext) -> None:
    """A workflow whose URL is set wrong: its trigger is delivered to a route that is no workflow."""
    await context.run("never", lambda: event(context, "misrouted", "never"))


@serve.post("/wf/long")
async def wf_long(context: AsyncWorkflowContext) -> None:
    w = "long"

    def before() -> float:
        event(context, w, "before")
        return time.time()

    await context.run("before", before)
    event(context, w, "reached-sleep")  # not a step: runs on every delivery that gets this far
    await context.sleep("wait", LONG_SLEEP)

    def after() -> str:
        event(context, w, "after")
        return "after"

    await context.run("after", after)
    finish(context, w, "finished")


@serve.post("/wf/resumable", retries=1)
async def wf_resumable(context: AsyncWorkflowContext) -> None:
    w = "resumable"
    payload = context.request_payload
    n = payload["n"] if isinstance(payload, dict) else 0

    def prepare() -> int:
        event(context, w, "prepare")
        return n + 1

    a = await context.run("prepare", prepare)

    def fragile() -> int:
        broken = STATE["broken"]
        event(context, w, "fragile", broken=broken)
        if broken:
            raise RuntimeError("fragile step fails while the app is broken")
        return a * 10

    b = await context.run("fragile", fragile)

    def wrap_up() -> str:
        event(context, w, "wrap-up")
        return f"resumed:{b}"

    c = await context.run("wrap-up", wrap_up)
    finish(context, w, {"a": a, "b": b, "c": c})


@serve.post("/wf/strict", retries=0)
async def wf_strict(context: AsyncWorkflowContext) -> None:
    w = "strict"
    run_id = context.workflow_run_id

    def failing_once(name: str) -> Callable[[], int]:
        def step() -> int:
            with _lock:
                FIRST_ATTEMPTS[f"{run_id}/{name}"] += 1
                attempt = FIRST_ATTEMPTS[f"{run_id}/{name}"]
            event(context, w, name, attempt=attempt)
            if attempt == 1:
                raise RuntimeError(f"{name} fails on its first attempt")
            return attempt

        return step

    first = await context.run("first", failing_once("first"))
    second = await context.run("second", failing_once("second"))
    finish(context, w, {"first": first, "second": second})
