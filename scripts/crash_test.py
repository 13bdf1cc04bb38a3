#!/usr/bin/env python3
"""Crash-safety test of `stepwise serve`: SIGKILL the server while runs are in flight.

Usage:
    python3 scripts/crash_test.py PATH/TO/stepwise [--seed N] [--runs 50] [--fanout-runs 24]
                                  [--kills 5] [--deadline 180] [--keep]
                                  [--sdk-python PATH] [--sdk-runs 16] [--sdk-sleep-runs 4]

What it does, all on 127.0.0.1 and with the Python standard library only (but for the SDK app,
which runs under `--sdk-python`):

1. writes two workflows into a temporary folder and checks them with `stepwise validate --strict`:
   `crash-test` (http, sleep, set, http, sleep, http, output) and `crash-fanout` (a `parallel`
   whose branch `items` is a `for_each` over `input.items` with `concurrency: 3`, each iteration an
   http request, a 200 ms sleep and a `set`, and whose branch `side` is an http request, a sleep
   and a `set`; then a final http request whose body is computed from every output);
2. starts a counting HTTP server in a thread: it answers each `POST /step/<k>`, `/fan/<run>/<index>`,
   `/side/<run>` and `/final/<run>` with a value derived from the request body, after a random
   delay (0-50 ms; 50-150 ms for `/fan/`, so that the requests of one for_each overlap), counts
   requests per `Idempotency-Key` and records when each `/fan/` request was in flight;
3. starts `stepwise serve` on a free port and a fresh SQLite file (with `--retry-delay-scale 0.01`,
   which only shortens the QStash backoff of SDK deliveries), starts half of the runs of both
   workflows (distinct inputs, run ids chosen with `Upstash-Workflow-RunId`), then repeatedly sleeps
   a random 0.2-1.5 s, kills the server with SIGKILL and starts it again on the same database and
   port, at least `--kills` times and until every run has ended (or the deadline passes). The other
   half of the runs is started from a thread at random moments during the kills, each start
   repeated with the same run id until acknowledged, so that later kills also land on live runs
   (all the runs started at once end within a few seconds);
4. checks that every run succeeded with the output computed here from its input, that every
   journal holds exactly the expected steps (for `crash-test` in order; for `crash-fanout` one entry
   per step path `both.items.fanout[i].fetch`/`.nap`, `both.side.probe`/`.rest` and `final`, in an
   order that never has more than 3 iterations started and unfinished), that the counting server
   received every step's request at least once, on the expected path, and that repeated requests
   carried the same body; and that no run ever had more than 3 `/fan/` requests (distinct
   iterations) in flight at once at the counting server, a request counting as in flight from its
   arrival to its answer, or to the SIGKILL of the server that sent it. It reports kills,
   requests and duplicates (requests beyond the first per key), per kind of step, and how many
   duplicates came with no kill since the previous request of their key; the temporary folder
   (kept on failure or with `--keep`) holds `serve.log` and `counter.log` (every request and
   answer of the counting server and every kill, in seconds since the start);
5. with `--sdk-python PATH` (a Python that imports the packages of
   scripts/upstash_compat/requirements.txt), also runs the official Upstash Python SDK through
   Stepwise's QStash API: scripts/upstash_compat/app.py under uvicorn (started once, on a port
   that stays the same, with QSTASH_URL = the stepwise server, whose port stays the same across
   kills) and, from a thread at random moments during the kills, `--sdk-runs` runs of its
   `sequential` workflow (three `context.run` steps) and `--sdk-sleep-runs` of `sleep` (`run`,
   `sleep` 2 s, `run`, `sleep_until`, `run`), each started like an application does: a POST of
   `{"n": …, "tag": …}` to the endpoint, where the SDK calls POST /v2/batch and answers the run
   id; a start that fails is repeated (the SDK then makes a new run id: a start whose answer was
   lost leaves an extra run with the same tag, checked like the others). The kills go on until
   these runs have ended too. Each must have status `succeeded` in GET /api/runs/{id}; the app
   must have seen its workflow function return the right result (the arithmetic; for `sleep`,
   waits of at least 2 s and until the target second); and its log in the SQLite store (table
   `run_log`, which keeps the log of ended runs) must hold the initial payload, then each step
   exactly once (no stepId twice), in order, with the results the app returned. Step code may
   run more than once (a delivery whose step result was not recorded before a kill is delivered
   again); those re-executions are reported, and so are the deliveries of a message repeated
   although the previous one was answered 200 with no kill since it was sent (or in the 0.5 s
   before it reached the app, which may lag that much behind). The temporary folder also holds
   `app.log` (uvicorn's), `app-results.json` (the app's records) and `sdk.log` (each delivery to
   the app and each execution of step code, with the kills, on the clock of `counter.log`).
   Without `--sdk-python` this part is skipped with a line that says so; a `--sdk-python` that
   cannot import the SDK is an error (exit status 1).

The last line is `crash test: N passed, M failed` (the SDK runs count too); the exit status is 0
when every run passed and nothing else was wrong, 1 otherwise (2 for usage errors). The random generator is seeded (the
seed is printed; `--seed` replays a schedule, up to the timing of the processes).
"""

import argparse
import atexit
import hashlib
import http.client
import json
import math
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
TOKEN = "crash-test-token"   # the API token of the server under test
WORKFLOW = "crash-test"
# The durable steps of the workflow, in journal order: (stepName, stepType).
EXPECTED_STEPS = [
    ("first", "Run"),
    ("pause_1", "SleepFor"),
    ("second", "Run"),
    ("pause_2", "SleepFor"),
    ("third", "Run"),
]
HTTP_STEPS = ["first", "second", "third"]

WORKFLOW_YAML = """\
# Written by scripts/crash_test.py: three requests to the counting server, each depending on the
# previous answers, with sleeps and a pure step in between.
workflow: crash-test
description: Crash-safety test workflow (requests to a local counting server)
input:
  type: object
  required: [n]
  properties:
    n: {{type: integer, minimum: 0}}
env:
  COUNTER: http://{host}:{port}
steps:
  - id: first
    http:
      method: POST
      url: ${{{{ env.COUNTER }}}}/step/1
      body: {{n: "${{{{ input.n }}}}"}}
      expect: {{status: [200]}}
  - id: pause_1
    sleep: 200ms
  - id: mix
    set:
      total: ${{{{ steps.first.body.value + input.n * 7 }}}}
      tag: "run-${{{{ input.n }}}}-${{{{ steps.first.body.value % 97 }}}}"
  - id: second
    http:
      method: POST
      url: ${{{{ env.COUNTER }}}}/step/2
      body:
        n: ${{{{ input.n }}}}
        prev: ${{{{ steps.first.body.value }}}}
        total: ${{{{ steps.mix.total }}}}
        tag: ${{{{ steps.mix.tag }}}}
      expect: {{status: [200]}}
  - id: pause_2
    sleep: 200ms
  - id: third
    http:
      method: POST
      url: ${{{{ env.COUNTER }}}}/step/3
      body:
        n: ${{{{ input.n }}}}
        prev: ${{{{ steps.second.body.value }}}}
        first: ${{{{ steps.first.body.value }}}}
      expect: {{status: [200]}}
output:
  n: ${{{{ input.n }}}}
  first: ${{{{ steps.first.body.value }}}}
  second: ${{{{ steps.second.body.value }}}}
  third: ${{{{ steps.third.body.value }}}}
  total: ${{{{ steps.mix.total }}}}
  tag: ${{{{ steps.mix.tag }}}}
  sum: ${{{{ steps.first.body.value + steps.second.body.value + steps.third.body.value }}}}
"""

FANOUT_WORKFLOW = "crash-fanout"
FANOUT_CONCURRENCY = 3

# Placeholders @HOST@ and @PORT@ are replaced (no str.format: the file is full of braces).
FANOUT_YAML = """\
# Written by scripts/crash_test.py: a parallel of a for_each fan-out (concurrency 3) and a side
# branch, then a request whose body is computed from every output; all requests go to the
# counting server.
workflow: crash-fanout
description: Crash-safety test workflow (parallel, for_each, final request to a local counting server)
input:
  type: object
  required: [n, items]
  properties:
    n: {type: integer, minimum: 0}
    items: {type: array, items: {type: integer}}
env:
  COUNTER: http://@HOST@:@PORT@
steps:
  - id: both
    parallel:
      items:
        - id: fanout
          for_each:
            items: ${{ input.items }}
            concurrency: 3
            steps:
              - id: fetch
                http:
                  method: POST
                  url: ${{ env.COUNTER }}/fan/${{ run.id }}/${{ index }}
                  body: {n: "${{ input.n }}", item: "${{ item }}", index: "${{ index }}"}
                  expect: {status: [200]}
              - id: nap
                sleep: 200ms
              - id: keep
                set:
                  index: ${{ index }}
                  item: ${{ item }}
                  value: ${{ steps.fetch.body.value }}
      side:
        - id: probe
          http:
            method: POST
            url: ${{ env.COUNTER }}/side/${{ run.id }}
            body: {n: "${{ input.n }}", count: "${{ size(input.items) }}"}
            expect: {status: [200]}
        - id: rest
          sleep: 200ms
        - id: side_out
          set:
            value: ${{ steps.probe.body.value }}
  - id: final
    http:
      method: POST
      url: ${{ env.COUNTER }}/final/${{ run.id }}
      body:
        n: ${{ input.n }}
        values: ${{ steps.both.items.map(o, o.value) }}
        side: ${{ steps.both.side.value }}
        digest: ${{ steps.both.items.map(o, string(o.index) + ":" + string(o.item) + ":" + string(o.value % 1000)).join(",") + "|" + string(steps.both.side.value % 1000) }}
        evens: ${{ size(steps.both.items.filter(o, o.value % 2 == 0)) }}
      expect: {status: [200]}
output:
  n: ${{ input.n }}
  values: ${{ steps.both.items.map(o, o.value) }}
  side: ${{ steps.both.side.value }}
  final: ${{ steps.final.body.value }}
"""


# ---------------------------------------------------------------------------------------------
# The model: what the counting server answers and what each run must output.

def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def answer_value(step, body):
    """The counting server's answer to `POST /step/<step>` (step 1-3) or to `/fan/…`, `/side/…`,
    `/final/…` (step "fan", "side", "final") with `body`: a 31-bit number."""
    digest = hashlib.sha256(f"{step}:{canonical(body)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def expected_run(n):
    """The request bodies and the output of the run with input `{"n": n}`, computed independently."""
    first_body = {"n": n}
    first = answer_value(1, first_body)
    total = first + n * 7
    tag = f"run-{n}-{first % 97}"
    second_body = {"n": n, "prev": first, "total": total, "tag": tag}
    second = answer_value(2, second_body)
    third_body = {"n": n, "prev": second, "first": first}
    third = answer_value(3, third_body)
    output = {"n": n, "first": first, "second": second, "third": third, "total": total, "tag": tag,
              "sum": first + second + third}
    return {"first": first_body, "second": second_body, "third": third_body}, output


def fanout_paths(count):
    """The journal of a crash-fanout run with `count` items: {stepName: stepType}."""
    steps = {}
    for index in range(count):
        steps[f"both.items.fanout[{index}].fetch"] = "Run"
        steps[f"both.items.fanout[{index}].nap"] = "SleepFor"
    steps["both.side.probe"] = "Run"
    steps["both.side.rest"] = "SleepFor"
    steps["final"] = "Run"
    return steps


def expected_fanout(run_id, n, items):
    """The requests {stepName: (answer kind, url path, body, value)} and the output of the
    crash-fanout run `run_id` with input `{"n": n, "items": items}`, computed independently."""
    requests = {}
    values = []
    for index, item in enumerate(items):
        body = {"n": n, "item": item, "index": index}
        value = answer_value("fan", body)
        values.append(value)
        requests[f"both.items.fanout[{index}].fetch"] = ("fan", f"/fan/{run_id}/{index}", body, value)
    side_body = {"n": n, "count": len(items)}
    side = answer_value("side", side_body)
    requests["both.side.probe"] = ("side", f"/side/{run_id}", side_body, side)
    digest = ",".join(f"{index}:{item}:{value % 1000}" for index, (item, value) in enumerate(zip(items, values)))
    final_body = {"n": n, "values": values, "side": side, "digest": f"{digest}|{side % 1000}",
                  "evens": sum(1 for value in values if value % 2 == 0)}
    final = answer_value("final", final_body)
    requests["final"] = ("final", f"/final/{run_id}", final_body, final)
    return requests, {"n": n, "values": values, "side": side, "final": final}


def expected_requests(run_id, workflow, payload):
    """{Idempotency-Key: (url path, body)} of every request the run must send."""
    if workflow == FANOUT_WORKFLOW:
        requests, _ = expected_fanout(run_id, payload["n"], payload["items"])
        return {f"{run_id}/{name}": (path, body) for name, (_, path, body, _) in requests.items()}
    bodies, _ = expected_run(payload["n"])
    return {f"{run_id}/{name}": (f"/step/{HTTP_STEPS.index(name) + 1}", bodies[name]) for name in HTTP_STEPS}


def step_kind(key):
    """The kind of step of an Idempotency-Key, for the duplicate counts: first, second, third (of
    crash-test), fetch, probe, final (of crash-fanout)."""
    path = key.split("/", 1)[-1]
    return path.rsplit(".", 1)[-1]


# ---------------------------------------------------------------------------------------------
# The counting server.

class Counter:
    def __init__(self, seed):
        self.lock = threading.Lock()
        self.counts = {}        # Idempotency-Key -> requests received
        self.bodies = {}        # Idempotency-Key -> set of canonical bodies received
        self.paths = {}         # Idempotency-Key -> set of url paths received
        self.unkeyed = 0        # requests without an Idempotency-Key
        self.truncated = 0      # requests cut short by a kill (not counted as received)
        self.total = 0
        self.fan = []           # /fan/ requests: [run id, index, key, arrival, answer (None until answered)]
        self.log = []           # (monotonic time, event, path, key)
        self.origin = time.monotonic()
        self.random = random.Random(seed)

    def delay(self, fan=False):
        with self.lock:
            return self.random.uniform(0.05, 0.15) if fan else self.random.uniform(0.0, 0.05)

    def record(self, key, path, body):
        with self.lock:
            self.total += 1
            self.log.append((time.monotonic(), "received", path, key))
            if key is None:
                self.unkeyed += 1
                return
            self.counts[key] = self.counts.get(key, 0) + 1
            self.bodies.setdefault(key, set()).add(canonical(body))
            self.paths.setdefault(key, set()).add(path)

    def arrived(self, run_id, index, key):
        """A /fan/ request is in flight from now; returns its record for `answered`."""
        with self.lock:
            entry = [run_id, index, key, time.monotonic(), None]
            self.fan.append(entry)
            return entry

    def answered(self, entry, path, key, outcome):
        with self.lock:
            if entry is not None:
                entry[4] = time.monotonic()
            self.log.append((time.monotonic(), outcome, path, key))


def make_handler(counter):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if len(raw) < length:
                counter.truncated += 1  # the sender died mid-request: not received
                self.close_connection = True
                return
            parts = self.path.strip("/").split("/")
            if len(parts) == 2 and parts[0] == "step" and parts[1].isdigit():
                step, run_id, index = int(parts[1]), None, None
            elif len(parts) == 3 and parts[0] == "fan" and parts[2].isdigit():
                step, run_id, index = "fan", parts[1], int(parts[2])
            elif len(parts) == 2 and parts[0] in ("side", "final"):
                step, run_id, index = parts[0], parts[1], None
            else:
                return self.reply(404, {"error": f"no such path {self.path}"})
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return self.reply(400, {"error": "body is not JSON"})
            key = self.headers.get("Idempotency-Key")
            counter.record(key, self.path, body)
            entry = counter.arrived(run_id, index, key) if step == "fan" else None
            outcome = "answer failed"
            try:
                time.sleep(counter.delay(fan=step == "fan"))
                self.reply(200, {"step": step, "value": answer_value(step, body)})
                self.wfile.flush()
                outcome = "answered"
            finally:
                counter.answered(entry, self.path, key, outcome)

        def reply(self, status, value):
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


class CountingServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client (the stepwise server) killed mid-request: not an error of the test.
        pass


# ---------------------------------------------------------------------------------------------
# The stepwise server as a child process.

class ChildServer:
    """A stepwise child process (`serve`, or `runner` in the split test) that is SIGKILLed and
    started again on the same port; it records when each killed process was known dead."""

    def __init__(self, name, command, port, log_path, cwd=None):
        self.name = name
        self.command = command
        self.cwd = cwd
        self.port = port
        self.log_path = log_path
        self.process = None
        self.starts = 0
        self.deaths = []    # time.monotonic() when each killed process was known dead
        self.death_times = []   # the same moments in time.time() (the SDK app's clock)

    @property
    def base(self):
        return f"http://{HOST}:{self.port}"

    def start(self, timeout=30.0):
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write(f"\n==== start #{self.starts} of {self.name} at {time.strftime('%H:%M:%S')} ====\n")
            log.flush()
            try:
                process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.cwd)
            except OSError as error:   # e.g. the binary is being rebuilt ("Text file busy")
                raise TestFailure(f"cannot start {self.command[0]}: {error}") from error
        self.process = process
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # The local process: the cluster test's killer thread may kill this one meanwhile
            # and set self.process to None.
            if process.poll() is not None:
                raise TestFailure(f"{self.name} exited with status {process.returncode} while starting")
            try:
                status, body = request("GET", f"{self.base}/health", timeout=1.0)
                if status == 200 and body.get("status") == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise TestFailure(f"{self.name} did not answer /health within {timeout:.0f} s")

    def kill(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.deaths.append(time.monotonic())
        self.death_times.append(time.time())
        self.process = None

    def alive(self):
        return self.process is not None and self.process.poll() is None


def check_binary_and_seed(parser, arguments):
    """Refuses a binary that is not an executable file and draws the seed when none was given."""
    if not (os.path.isfile(arguments.binary) and os.access(arguments.binary, os.X_OK)):
        parser.error(f"{arguments.binary} is not an executable file")
    if arguments.seed is None:
        arguments.seed = random.SystemRandom().randrange(1, 2**31)


def start_counting_server(rng):
    """The counting server on a free loopback port, serving from a thread: (counter, server)."""
    counter = Counter(rng.randrange(2**31))
    counting = CountingServer((HOST, 0), make_handler(counter))
    threading.Thread(target=counting.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return counter, counting


def write_crash_workflows(workflows, port):
    """Writes `crash-test` and `crash-fanout`, their requests going to the counting server on `port`."""
    with open(os.path.join(workflows, f"{WORKFLOW}.yaml"), "w") as file:
        file.write(WORKFLOW_YAML.format(host=HOST, port=port))
    with open(os.path.join(workflows, f"{FANOUT_WORKFLOW}.yaml"), "w") as file:
        file.write(FANOUT_YAML.replace("@HOST@", HOST).replace("@PORT@", str(port)))


def stepwise_serve(binary, workflows, database, port, log_path):
    """`stepwise serve` on `port` and `database` with the test's token and shortened QStash backoff."""
    return ChildServer("stepwise serve", [
        binary, "serve", "--workflows", workflows, "--store", f"sqlite:{database}", "--host", HOST, "--port", str(port),
        "--token", TOKEN, "--retry-delay-scale", "0.01"], port, log_path)


class TestFailure(Exception):
    pass


def request(method, url, body=None, timeout=5.0, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, {"raw": text.decode(errors="replace")}
    except (http.client.HTTPException, ValueError) as error:
        # A connection cut mid-response; callers treat it like an unreachable server.
        raise ConnectionError(str(error)) from error


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def tail(path, lines=25):
    try:
        with open(path, errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except OSError as error:
        return f"(cannot read {path}: {error})\n"


class Triggers(threading.Thread):
    """Starts runs with chosen ids (`Upstash-Workflow-RunId`), each at its moment; a start whose
    answer was lost (server killed or restarting) is repeated with the same id until acknowledged."""

    def __init__(self, server, deadline):
        super().__init__(daemon=True)
        self.server = server
        self.deadline = deadline
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged = {}
        self.errors = []
        self.retried = 0
        self.deduplicated = 0
        self.plan = []

    def schedule(self, plan, pauses):
        self.plan = list(zip(plan, pauses))

    def acknowledged_ids(self):
        with self.lock:
            return set(self.acknowledged)

    def run(self):
        for (run_id, workflow, payload), pause in self.plan:
            if self.stop.wait(pause) or not self.trigger(run_id, workflow, payload):
                return

    def trigger(self, run_id, workflow, payload):
        url = f"{self.server.base}/workflows/{workflow}"
        tries = 0
        while time.monotonic() < self.deadline and not self.stop.is_set():
            tries += 1
            try:
                status, body = request("POST", url, payload, headers={"Upstash-Workflow-RunId": run_id})
            except OSError:
                time.sleep(0.05)
                continue
            with self.lock:
                self.retried += tries > 1
                if status == 200 and body.get("workflowRunId") == run_id:
                    self.acknowledged[run_id] = payload
                    self.deduplicated += bool(body.get("deduplicated"))
                    if body.get("deduplicated") and tries == 1:
                        self.errors.append(f"the first start of {run_id} was answered as deduplicated: {body}")
                    return True
                self.errors.append(f"starting {run_id} ({workflow}, {canonical(payload)}) answered {status}: {body}")
                return False
        with self.lock:
            self.errors.append(f"{run_id} ({workflow}, {canonical(payload)}) was never acknowledged before the deadline")
        return False


# ---------------------------------------------------------------------------------------------
# Runs of the official Upstash Python SDK: scripts/upstash_compat/app.py under uvicorn.

SDK_APP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "upstash_compat")
SDK_MODULES = "upstash_workflow, qstash, fastapi, uvicorn, httpx"
# The steps each workflow of app.py records in its run's log, in order: (stepId, stepName, stepType).
SDK_STEPS = {
    "sequential": [(1, "add-one", "Run"), (2, "times-ten", "Run"), (3, "stringify", "Run")],
    "sleep": [(1, "t0", "Run"), (2, "pause", "SleepFor"), (3, "t1", "Run"), (4, "until", "SleepUntil"), (5, "t2", "Run")],
}
# The key of each `Run` step's value in the result the app records when the workflow returns.
SDK_RESULT_KEYS = {"add-one": "a", "times-ten": "b", "stringify": "c", "t0": "t0", "t1": "t1", "t2": "t2"}
SDK_SLEEP = 2.0        # the `sleep` workflow's context.sleep, seconds
SDK_TOLERANCE = 0.01   # seconds of clock rounding allowed when comparing sleeps
# How much later than sent a delivery may reach the app's code (seen up to 0.4 s under the load of
# this test): a delivery that arrives this soon after a kill may come from the killed server.
SDK_LAG = 0.5


def sdk_python_check(python):
    """(absolute path of `python`, "upstash-workflow X, qstash Y", None) when it imports the SDK
    app's packages; else (None, None, why not)."""
    if not python:
        return None, None, "no --sdk-python given"
    found = shutil.which(python)
    if found is None:
        return None, None, f"{python} is not an executable file"
    found = os.path.abspath(found)   # not realpath: a venv's python must keep its path
    try:
        check = subprocess.run(
            [found, "-c", f"import {SDK_MODULES}; from importlib.metadata import version; "
                          "print(version('upstash-workflow'), version('qstash'))"],
            capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, None, f"cannot run {python}: {error}"
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or ["no output"])[-1]
        return None, None, f"{python} cannot import the SDK ({last}; install scripts/upstash_compat/requirements.txt)"
    versions = check.stdout.split()
    return found, f"upstash-workflow {versions[0]}, qstash {versions[1]}" if len(versions) == 2 else check.stdout.strip(), None


class SdkApp:
    """scripts/upstash_compat/app.py served by uvicorn with the SDK's Python, started once on a port
    that stays the same; QSTASH_URL is the stepwise server, whose port stays the same across kills."""

    def __init__(self, python, engine_base, port, log_path):
        self.python = python
        self.engine_base = engine_base
        self.port = port
        self.log_path = log_path
        self.process = None

    @property
    def base(self):
        return f"http://{HOST}:{self.port}"

    def endpoint(self, workflow):
        return f"{self.base}/wf/{workflow}"

    def start(self):
        env = dict(os.environ)
        for name in ("QSTASH_CURRENT_SIGNING_KEY", "QSTASH_NEXT_SIGNING_KEY", "QSTASH_DEV", "UPSTASH_WORKFLOW_URL",
                     "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            env.pop(name, None)
        env.update(QSTASH_URL=self.engine_base, QSTASH_TOKEN=TOKEN, UPSTASH_WORKFLOW_URL=self.base,
                   NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", PYTHONUNBUFFERED="1")
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [self.python, "-m", "uvicorn", "app:app", "--app-dir", SDK_APP_DIR, "--host", HOST,
                 "--port", str(self.port), "--log-level", "info"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                cwd=os.path.dirname(self.log_path))

    def wait_ready(self, deadline, stop):
        """Whether the app answered GET /results before `deadline` (False when it exited or `stop` was set)."""
        while time.monotonic() < deadline and not stop.is_set():
            if not self.alive():
                return False
            try:
                status, _ = request("GET", f"{self.base}/results", timeout=2.0)
                if status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class SdkTriggers(threading.Thread):
    """Starts the SDK runs as an application does, each at its moment: a POST of the payload to the
    workflow endpoint, where the SDK calls POST /v2/batch on stepwise (its client retries for about
    12 s) and answers `{"workflowRunId": …}`. A start that fails is repeated with the same payload;
    the SDK then makes a new run id."""

    def __init__(self, app, deadline):
        super().__init__(daemon=True)
        self.app = app
        self.deadline = deadline
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged = {}   # tag -> run id
        self.errors = []
        self.retried = 0         # starts that needed more than one POST
        self.failed_answers = [] # non-200 answers to a start (then repeated)
        self.spans = []          # (monotonic begin, end) of each acknowledged start
        self.plan = []

    def schedule(self, plan, pauses):
        self.plan = list(zip(plan, pauses))

    def acknowledged_ids(self):
        with self.lock:
            return set(self.acknowledged.values())

    def run(self):
        if not self.app.wait_ready(min(self.deadline, time.monotonic() + 60), self.stop):
            if not self.stop.is_set():
                with self.lock:
                    self.errors.append(f"the SDK app did not answer GET {self.app.base}/results "
                                       f"({'it exited' if not self.app.alive() else 'in time'}); see {self.app.log_path}")
            return
        for (tag, workflow, payload), pause in self.plan:
            if self.stop.wait(pause) or not self.trigger(tag, workflow, payload):
                return

    def trigger(self, tag, workflow, payload):
        url = self.app.endpoint(workflow)
        tries = 0
        began = time.monotonic()
        while time.monotonic() < self.deadline and not self.stop.is_set():
            tries += 1
            try:
                status, body = request("POST", url, payload, timeout=30.0)
            except OSError:
                time.sleep(0.1)
                continue
            run_id = body.get("workflowRunId") if isinstance(body, dict) else None
            with self.lock:
                if status == 200 and isinstance(run_id, str) and run_id.startswith("wfr_"):
                    self.acknowledged[tag] = run_id
                    self.retried += tries > 1
                    self.spans.append((began, time.monotonic()))
                    return True
                self.failed_answers.append(status)
                if len(self.failed_answers) > 20:
                    self.errors.append(f"starting {workflow} {canonical(payload)}: POST {url} answered {status}: {body} "
                                       f"(more than 20 starts refused)")
                    return False
            time.sleep(0.2)
        with self.lock:
            self.errors.append(f"the SDK run {workflow} {canonical(payload)} was never started before the deadline")
        return False


def sdk_listed_runs(server, app, status=None):
    """{run id: run} of every run stepwise lists (with `status`, if given) whose workflow is an
    endpoint of the app, or None when the server does not answer."""
    query = f"status={status}&limit=1000" if status else "limit=1000"
    try:
        status, body = request("GET", f"{server.base}/api/runs?{query}", timeout=10.0)
    except OSError:
        return None
    if status != 200:
        return None
    prefix = f"{app.base}/wf/"
    return {run["workflowRunId"]: run for run in body.get("runs", []) if str(run.get("workflow", "")).startswith(prefix)}


def read_run_logs(database, run_ids):
    """{run id: [(position, call_type, body bytes)]} from the store's run_log table, by position."""
    logs = {run_id: [] for run_id in run_ids}
    connection = sqlite3.connect(database, timeout=10.0)
    try:
        for run_id in run_ids:
            logs[run_id] = [(position, call_type, bytes(body)) for position, call_type, body in connection.execute(
                "SELECT position, call_type, body FROM run_log WHERE run_id = ? ORDER BY position", (run_id,))]
    finally:
        connection.close()
    return logs


def sdk_expected_result(workflow, payload, result):
    """The problems of the result the app recorded for a run of `workflow` with `payload`."""
    if not isinstance(result, dict):
        return [f"the app recorded the result {result!r}"]
    if workflow == "sequential":
        n = payload["n"]
        expected = {"a": n + 1, "b": (n + 1) * 10, "c": str((n + 1) * 10)}
        return [] if result == expected else [f"result is {canonical(result)}, expected {canonical(expected)}"]
    problems = []
    try:
        t0, t1, target, t2 = (result[key] for key in ("t0", "t1", "target", "t2"))
        if t1 < t0 + SDK_SLEEP - SDK_TOLERANCE:
            problems.append(f"t1 - t0 is {t1 - t0:.3f} s: the {SDK_SLEEP:.0f} s sleep was cut short")
        if target != math.ceil(t1) + 2:
            problems.append(f"target is {target}, expected ceil(t1) + 2 = {math.ceil(t1) + 2}")
        if t2 < target - SDK_TOLERANCE:
            problems.append(f"t2 is {t2 - target:.3f} s before the sleep_until target")
    except (KeyError, TypeError) as error:
        problems.append(f"result {canonical(result)} is not t0, t1, target, t2 ({error})")
    return problems


def check_sdk_log(workflow, payload, rows, result, problems):
    """The run's raw log: the initial payload, then each step once (no stepId twice), in order,
    with the values the workflow function returned. Returns the stepIds recorded more than once."""
    positions = [position for position, _, _ in rows]
    if positions != list(range(len(rows))):
        problems.append(f"log positions are {positions}")
    if not rows:
        problems.append("the store holds no log for the run")
        return {}
    try:
        initial = json.loads(rows[0][2])
    except ValueError:
        initial = rows[0][2].decode(errors="replace")
    if initial != payload:
        problems.append(f"log position 0 holds {initial!r}, expected the initial payload {canonical(payload)}")
    entries = []
    for position, call_type, body in rows[1:]:
        try:
            step = json.loads(body)
        except ValueError:
            step = None
        if call_type != "step" or not isinstance(step, dict):
            problems.append(f"log position {position} is a {call_type!r} entry: {body[:200]!r}")
            continue
        entries.append((position, step))
    by_id = {}
    for position, step in entries:
        by_id.setdefault(step.get("stepId"), []).append(position)
    twice = {step_id: where for step_id, where in by_id.items() if len(where) > 1}
    for step_id, where in sorted(twice.items(), key=lambda item: str(item[0])):
        problems.append(f"step {step_id} is recorded {len(where)} times in the log (positions {where})")
    recorded = [(step.get("stepId"), step.get("stepName"), step.get("stepType")) for _, step in entries]
    if recorded != SDK_STEPS[workflow]:
        problems.append(f"log holds steps {recorded}, expected {SDK_STEPS[workflow]}")
    if isinstance(result, dict):
        for position, step in entries:
            name, kind = step.get("stepName"), step.get("stepType")
            try:
                out = json.loads(step.get("out")) if isinstance(step.get("out"), str) else step.get("out")
            except ValueError:
                out = step.get("out")
            if kind == "Run" and name in SDK_RESULT_KEYS and out != result.get(SDK_RESULT_KEYS[name]):
                problems.append(f"log position {position} records {name} = {out!r}, the workflow returned "
                                f"{result.get(SDK_RESULT_KEYS[name])!r}")
            if kind == "SleepFor" and step.get("sleepFor") != SDK_SLEEP:
                problems.append(f"log position {position} records sleepFor {step.get('sleepFor')!r}, expected {SDK_SLEEP:g}")
            if kind == "SleepUntil" and step.get("sleepUntil") != result.get("target"):
                problems.append(f"log position {position} records sleepUntil {step.get('sleepUntil')!r}, "
                                f"expected {result.get('target')!r}")
    return twice


def app_record(app, run_id, wait):
    """The app's record of the run (GET /results/{id}), waiting up to `wait` s for `finished`; None if absent."""
    deadline = time.monotonic() + wait
    record = None
    while True:
        try:
            status, body = request("GET", f"{app.base}/results/{run_id}", timeout=5.0)
            record = body if status == 200 else None
        except OSError:
            record = None
        if (record is not None and record.get("finished")) or time.monotonic() >= deadline:
            return record
        time.sleep(0.1)


def verify_sdk_run(server, app, run_id, workflow, payload, log_rows, report, violations, origin):
    """One SDK run: succeeded in stepwise, the app saw the right result, the log holds each step once."""
    def violation(message):
        violations.append((run_id, f"(sdk {workflow}, {canonical(payload)}) {message}"))

    problems = []
    run = fetch_run(server, run_id, violation)
    if run is None:
        return False
    if run.get("status") != "succeeded":
        problems.append(f"status is {run.get('status')!r}, error {run.get('error')!r}")
    if run.get("workflow") != app.endpoint(workflow):
        problems.append(f"stepwise's workflow is {run.get('workflow')!r}, expected {app.endpoint(workflow)}")
    if run.get("input") != payload:
        problems.append(f"stepwise's input is {canonical(run.get('input'))}, expected {canonical(payload)}")
    record = app_record(app, run_id, 5.0 if run.get("status") == "succeeded" else 0.0)
    result = None
    if record is None:
        problems.append("the app has no record of the run (no step code ran)")
    else:
        result = record.get("result")
        if not record.get("finished"):
            problems.append("the app never saw the workflow function return")
        else:
            problems += sdk_expected_result(workflow, payload, result)
        if record.get("url") != app.endpoint(workflow):
            problems.append(f"the SDK's workflow URL is {record.get('url')!r}, expected {app.endpoint(workflow)}")
        executions = record.get("executions") or {}
        events = record.get("events") or []
        for _, name, kind in SDK_STEPS[workflow]:
            if kind != "Run":
                continue
            count = executions.get(name, 0)
            if count == 0:
                problems.append(f"the step code of {name} never ran")
            report["executions"] += count
            report["extra"] += max(count - 1, 0)
            report["most"] = max(report["most"], count - 1)
        deliveries = record.get("requests") or []
        report["refused"] += sum(1 for entry in deliveries if entry.get("status") != 200)
        report["deliveries"] += len(deliveries)
        # A message delivered again although the previous delivery was answered 200 and no kill
        # happened since it was sent (within SDK_LAG before it arrived).
        by_message = {}
        for entry in sorted(deliveries, key=lambda entry: entry.get("t", 0)):
            by_message.setdefault(entry.get("messageId"), []).append(entry)
        for entries in by_message.values():
            report["redelivered"] += len(entries) - 1
            for before, after in zip(entries, entries[1:]):
                if before.get("status") == 200 and not any(
                        before["t"] - SDK_LAG < death < after["t"] for death in server.death_times):
                    report["unprovoked"] += 1
                    report["unprovoked_examples"].append(
                        f"{run_id}: {before.get('messageId')} at {before['t'] - origin:.3f} and {after['t'] - origin:.3f} s")
    twice = check_sdk_log(workflow, payload, log_rows, result if record and record.get("finished") else None, problems)
    report["recorded"] += sum(1 for row in log_rows[1:])
    report["twice"] += sum(len(where) - 1 for where in twice.values())
    return reported(problems, run, violation)


def reported(problems, run, violation):
    """Reports each of a run's problems, with its last delivery attempts when there are any;
    whether the run passed."""
    for problem in problems:
        violation(problem)
    if problems:
        attempts = run.get("attempts") or []
        violation("attempts: " + "; ".join(
            f"pos {a.get('position')} try {a.get('attempt')} {a.get('outcome')} {a.get('detail') or ''}".strip()
            for a in attempts[-12:]))
    return not problems


def save_app_records(app, folder, death_times, origin):
    """The SDK app's records of every run (GET /results) in app-results.json, and sdk.log: each
    delivery to the app and each execution of step code, per run, with the kills, in seconds since
    the start (`origin`, a time.time(); the clock of counter.log)."""
    if not app.alive():
        return
    try:
        status, body = request("GET", f"{app.base}/results", timeout=10.0)
        with open(os.path.join(folder, "app-results.json"), "w") as file:
            json.dump(body, file, indent=1)
        events = [(moment, f"==== stepwise serve killed (#{number}) ====") for number, moment in enumerate(death_times, 1)]
        for record in body.get("runs", []) if status == 200 else []:
            run_id = record.get("workflowRunId")
            events += [(entry["t"], f"{run_id} delivery {entry.get('messageId')} answered {entry.get('status')}")
                       for entry in record.get("requests") or []]
            events += [(entry["t"], f"{run_id} ran {entry.get('event')}") for entry in record.get("events") or []]
        with open(os.path.join(folder, "sdk.log"), "w") as log:
            for moment, text in sorted(events, key=lambda event: event[0]):
                log.write(f"{moment - origin:9.3f} {text}\n")
    except (OSError, ValueError, KeyError, TypeError):
        pass


def verify_sdk_runs(server, app, database, plan, sdk_triggers, violations, origin):
    """Every SDK run: the acknowledged ones and those left by starts whose answer was lost (found by
    tag in the app's records and among stepwise's runs of the app's endpoints). Returns
    ({tag: passed}, report, ids of the app's runs in stepwise); `origin` (a time.time()) is the
    start of the times in messages."""
    report = {"extra_runs": 0, "executions": 0, "extra": 0, "most": 0, "redelivered": 0, "unprovoked": 0,
              "unprovoked_examples": [], "refused": 0, "deliveries": 0, "recorded": 0, "twice": 0}
    by_tag = {tag: (workflow, payload) for tag, workflow, payload in plan}
    acknowledged = dict(sdk_triggers.acknowledged)
    passed = {tag: False for tag in by_tag}
    listed = sdk_listed_runs(server, app)
    if listed is None:
        violations.append((None, "cannot list stepwise's runs of the SDK app"))
        listed = {}
    # Runs not acknowledged: found in stepwise's list (input tag) or in the app's records.
    strays = {}
    for run_id, _ in listed.items():
        if run_id not in acknowledged.values():
            strays[run_id] = None
    try:
        status, body = request("GET", f"{app.base}/results", timeout=10.0)
        records = body.get("runs", []) if status == 200 else []
    except OSError as error:
        violations.append((None, f"cannot read the SDK app's records: {error}"))
        records = []
    for record in records:
        if record.get("workflowRunId") not in acknowledged.values():
            strays[record.get("workflowRunId")] = record.get("tag")
    checks = [(tag, run_id) for tag, run_id in acknowledged.items()]
    for run_id in sorted(strays):
        tag = strays[run_id]
        if tag is None:
            try:
                status, run = request("GET", f"{server.base}/api/runs/{run_id}", timeout=10.0)
                tag = (run.get("input") or {}).get("tag") if status == 200 and isinstance(run.get("input"), dict) else None
            except OSError:
                tag = None
        if tag not in by_tag:
            violations.append((run_id, f"a run of the SDK app that no start of this test made (tag {tag!r})"))
            continue
        report["extra_runs"] += 1
        checks.append((tag, run_id))
    missing = [run_id for run_id in acknowledged.values() if run_id not in listed]
    for run_id in missing:
        violations.append((run_id, "stepwise does not list this acknowledged SDK run"))
    logs = read_run_logs(database, [run_id for _, run_id in checks])
    for tag, run_id in checks:
        workflow, payload = by_tag[tag]
        ok = verify_sdk_run(server, app, run_id, workflow, payload, logs[run_id], report, violations, origin)
        if run_id == acknowledged.get(tag):
            passed[tag] = ok and run_id not in missing
        elif not ok:
            passed[tag] = False
    return passed, report, list(listed)


# ---------------------------------------------------------------------------------------------
# The test.

def parse_arguments():
    parser = argparse.ArgumentParser(description="SIGKILL crash test of stepwise serve.")
    parser.add_argument("binary", help="path of the stepwise binary")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random schedule (default: random)")
    parser.add_argument("--runs", type=int, default=50, help="runs of crash-test to trigger (default 50)")
    parser.add_argument("--fanout-runs", type=int, default=24, help="runs of crash-fanout to trigger in addition (default 24)")
    parser.add_argument("--kills", type=int, default=5, help="least number of SIGKILLs (default 5)")
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds until unfinished runs fail the test (default 180)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (kept anyway on failure)")
    parser.add_argument("--sdk-python", metavar="PATH", default=None,
                        help="a Python with the packages of scripts/upstash_compat/requirements.txt: also run the "
                             "official Upstash SDK's app.py through the kills (skipped, with a line saying so, without it)")
    parser.add_argument("--sdk-runs", type=int, default=16, help="SDK runs of app.py's `sequential` (default 16)")
    parser.add_argument("--sdk-sleep-runs", type=int, default=4, help="SDK runs of app.py's `sleep` in addition (default 4)")
    arguments = parser.parse_args()
    check_binary_and_seed(parser, arguments)
    if arguments.runs < 0 or arguments.fanout_runs < 0 or arguments.runs + arguments.fanout_runs < 1 \
            or arguments.kills < 0 or arguments.deadline <= 0 or arguments.sdk_runs < 0 or arguments.sdk_sleep_runs < 0:
        parser.error("--runs and --fanout-runs must be ≥ 0 with at least one run, --kills ≥ 0, --deadline > 0, "
                     "--sdk-runs and --sdk-sleep-runs ≥ 0")
    return arguments


def main():
    arguments = parse_arguments()
    binary = os.path.abspath(arguments.binary)
    rng = random.Random(arguments.seed)
    print(f"crash test: seed {arguments.seed} (replay with --seed {arguments.seed})", flush=True)
    began = time.monotonic()
    sdk_count = arguments.sdk_runs + arguments.sdk_sleep_runs
    sdk_python, sdk_versions, sdk_skip = sdk_python_check(arguments.sdk_python)
    if arguments.sdk_python and sdk_python is None:
        # Asked for and unusable: a broken environment must not pass as a test without SDK runs.
        print(f"crash test: cannot run the SDK part: {sdk_skip}", flush=True)
        return 1
    if sdk_python is not None and sdk_count == 0:
        sdk_python, sdk_skip = None, "--sdk-runs and --sdk-sleep-runs are 0"
    if sdk_skip:
        print(f"crash test: SDK part SKIPPED: {sdk_skip}", flush=True)

    folder = tempfile.mkdtemp(prefix="stepwise-crash-")
    workflows = os.path.join(folder, "workflows")
    os.mkdir(workflows)
    database = os.path.join(folder, "stepwise.db")
    log_path = os.path.join(folder, "serve.log")

    counter, counting = start_counting_server(rng)
    counter_port = counting.server_address[1]

    server = stepwise_serve(binary, workflows, database, free_port(), log_path)
    atexit.register(server.kill)
    app = None        # the SDK app, when the SDK part runs
    if sdk_python is not None:
        app = SdkApp(sdk_python, server.base, free_port(), os.path.join(folder, "app.log"))
        atexit.register(app.stop)
    # SIGTERM/SIGINT of this script still kill the child (through finally and atexit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    violations = []   # (run id or None, message)
    results = {}      # run id -> passed
    kills = 0
    kills_in_flight = 0
    starts_repeated = starts_deduplicated = 0
    runs = {}         # run id -> (workflow, input)
    fanout_report = None
    triggers = None
    sdk_triggers = None
    sdk_plan = []     # (tag, workflow, payload)
    sdk_passed = {}   # tag -> passed
    sdk_report = None
    ok = False
    try:
        write_crash_workflows(workflows, counter_port)
        check = subprocess.run([binary, "validate", "--strict", workflows], capture_output=True, text=True, timeout=60)
        if check.returncode != 0:
            print(check.stdout + check.stderr, end="")
            raise TestFailure(f"the test workflows do not validate (exit status {check.returncode})")

        server.start()
        if app is not None:
            app.start()   # imports take a second or two: the SDK runs start once it answers
        # Half of the runs start before the first kill; the others start at random moments while
        # the server is being killed (a start lost to a kill is repeated with the same run id).
        # The runs of both workflows are shuffled together.
        inputs = rng.sample(range(1, 1_000_000), arguments.runs + arguments.fanout_runs)
        plan = [(f"wfr_crash_{arguments.seed}_{index:03d}", WORKFLOW, {"n": n})
                for index, n in enumerate(inputs[:arguments.runs])]
        plan += [(f"wfr_fanout_{arguments.seed}_{index:03d}", FANOUT_WORKFLOW,
                  {"n": n, "items": [rng.randrange(1, 1000) for _ in range(rng.randint(5, 8))]})
                 for index, n in enumerate(inputs[arguments.runs:])]
        rng.shuffle(plan)
        runs.update((run_id, (workflow, payload)) for run_id, workflow, payload in plan)
        upfront = (len(plan) + 1) // 2
        mean_pause = max(0.85 * arguments.kills, 1.0) / max(len(plan) - upfront, 1)
        pauses = [rng.uniform(0.0, 2 * mean_pause) for _ in plan[upfront:]]
        deadline = began + arguments.deadline
        triggers = Triggers(server, deadline)
        for run_id, workflow, payload in plan[:upfront]:
            if not triggers.trigger(run_id, workflow, payload):
                raise TestFailure("; ".join(triggers.errors))
        started = {kind: sum(1 for _, workflow, _ in plan[:upfront] if workflow == kind) for kind in (WORKFLOW, FANOUT_WORKFLOW)}
        print(f"crash test: {started[WORKFLOW]} runs of {WORKFLOW} and {started[FANOUT_WORKFLOW]} of {FANOUT_WORKFLOW} started, "
              f"{len(plan) - upfront} more to start while killing; "
              f"stepwise on port {server.port}, counting server on port {counter_port}", flush=True)
        triggers.schedule(plan[upfront:], pauses)
        triggers.start()
        if app is not None:
            # The SDK runs, from their own generator (the schedule above stays that of the seed),
            # all started at random moments while the server is being killed.
            sdk_rng = random.Random(f"sdk-{arguments.seed}")
            sdk_inputs = sdk_rng.sample(range(1, 1_000_000), sdk_count)
            sdk_plan = [(f"crash-{arguments.seed}-{index:02d}", "sequential" if index < arguments.sdk_runs else "sleep",
                         {"n": n, "tag": f"crash-{arguments.seed}-{index:02d}"}) for index, n in enumerate(sdk_inputs)]
            sdk_rng.shuffle(sdk_plan)
            sdk_mean = max(0.85 * arguments.kills - 1.5, 1.0) / sdk_count
            sdk_triggers = SdkTriggers(app, deadline)
            sdk_triggers.schedule(sdk_plan, [sdk_rng.uniform(0.0, 2 * sdk_mean) for _ in sdk_plan])
            sdk_triggers.start()
            print(f"crash test: SDK app ({sdk_versions}) on port {app.port}: {arguments.sdk_runs} runs of sequential and "
                  f"{arguments.sdk_sleep_runs} of sleep to start while killing", flush=True)

        # Kill and restart the server at random moments, at least `--kills` times and until every
        # run has started and ended, or until the deadline.
        ended = set()
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 1.5))
            candidates = triggers.acknowledged_ids()
            if sdk_triggers is not None:
                candidates |= sdk_triggers.acknowledged_ids()
            ended |= finished(server, candidates)
            in_flight = triggers.is_alive() or len(ended) < len(candidates)
            if sdk_triggers is not None and not in_flight:
                # SDK runs still to start, or left running by a start whose answer was lost.
                strays = sdk_listed_runs(server, app, status="running")
                in_flight = sdk_triggers.is_alive() or strays is None or bool(set(strays) - candidates)
            if kills >= arguments.kills and not in_flight:
                break
            if not server.alive():
                raise TestFailure(f"stepwise serve exited by itself with status {server.process.returncode}")
            if app is not None and not app.alive():
                raise TestFailure(f"the SDK app exited with status {app.process.returncode}; see {app.log_path}")
            server.kill()
            kills += 1
            kills_in_flight += in_flight
            server.start()
        triggers.stop.set()
        triggers.join()
        if sdk_triggers is not None:
            sdk_triggers.stop.set()
            sdk_triggers.join()
            violations.extend((None, error) for error in sdk_triggers.errors)
        if time.monotonic() >= deadline:
            violations.append((None, f"the deadline ({arguments.deadline:.0f} s) passed before every run had ended"))
        for error in triggers.errors:
            violations.append((None, error))
        starts_repeated = triggers.retried
        starts_deduplicated = triggers.deduplicated

        if not server.alive():
            raise TestFailure(f"stepwise serve exited by itself with status {server.process.returncode}")
        # Read every run (they are final or the deadline has passed).
        for run_id, (workflow, payload) in runs.items():
            if workflow == FANOUT_WORKFLOW:
                passed = verify_fanout_run(server, run_id, payload, violations)
            else:
                passed = verify_run(server, run_id, payload["n"], violations)
            results[run_id] = passed
        verify_requests(runs, counter, violations, results)
        fanout_report = verify_fanout_concurrency(runs, counter, server.deaths, violations, results)
        sdk_ids = []
        if app is not None:
            if not app.alive():
                raise TestFailure(f"the SDK app exited with status {app.process.returncode}; see {app.log_path}")
            sdk_passed, sdk_report, sdk_ids = verify_sdk_runs(server, app, database, sdk_plan, sdk_triggers, violations,
                                                              time.time() - (time.monotonic() - counter.origin))
        verify_no_extra_runs(server, list(runs) + sdk_ids, violations)
        ok = not violations and all(results.values()) and len(results) == len(runs) \
            and len(sdk_passed) == len(sdk_plan) and all(sdk_passed.values())
    except TestFailure as failure:
        violations.append((None, str(failure)))
    finally:
        if triggers is not None:
            triggers.stop.set()
        if sdk_triggers is not None:
            sdk_triggers.stop.set()
        server.kill()
        if app is not None:
            save_app_records(app, folder, server.death_times, time.time() - (time.monotonic() - counter.origin))
            app.stop()
        counting.shutdown()
        counting.server_close()

    elapsed = time.monotonic() - began
    duplicates = sum(count - 1 for count in counter.counts.values() if count > 1)
    most = max(counter.counts.values(), default=0)
    by_kind = {}
    for key, count in counter.counts.items():
        kind = by_kind.setdefault(step_kind(key), [0, 0])
        kind[0] += 1
        kind[1] += count - 1
    write_counter_log(os.path.join(folder, "counter.log"), counter, server.deaths)
    unprovoked = duplicates_without_kill(counter, server.deaths)
    if violations:
        print(f"---- tail of the stepwise serve log ({log_path}) ----")
        print(tail(log_path), end="")
        print("---- violations ----")
        for run_id, message in violations[:40]:
            print(f"  {run_id + ': ' if run_id else ''}{message}")
        if len(violations) > 40:
            print(f"  … and {len(violations) - 40} more")
        print(f"crash test: files kept in {folder}")
    elif arguments.keep:
        print(f"crash test: files kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"crash test: seed {arguments.seed}; {len(runs)} runs, {kills} kills ({kills_in_flight} with runs in flight), "
          f"{server.starts} server starts, {elapsed:.1f} s")
    print(f"crash test: {starts_repeated} starts repeated after a kill ({starts_deduplicated} answered as deduplicated)")
    print(f"crash test: {counter.total} requests for {len(counter.counts)} keys, {duplicates} duplicates "
          f"(max {max(most - 1, 0)} extra on one key), {counter.truncated} cut short by a kill")
    kinds = [kind for kind in ("first", "second", "third", "fetch", "probe", "final") if kind in by_kind]
    kinds += sorted(set(by_kind) - set(kinds))
    print("crash test: duplicates per kind: " + ", ".join(
        f"{kind} {by_kind[kind][1]} ({by_kind[kind][0]} keys)" for kind in kinds)
        + f"; {unprovoked} without a kill since the previous request")
    if fanout_report is not None and fanout_report["runs"]:
        print(f"crash test: {FANOUT_WORKFLOW}: at most {fanout_report['most']} /fan/ requests of one run in flight at once "
              f"(limit {FANOUT_CONCURRENCY}; {fanout_report['at_limit']} of {fanout_report['runs']} runs reached it), "
              f"{fanout_report['cut']} /fan/ requests still in flight at a kill")
    if sdk_skip:
        print(f"crash test: SDK part SKIPPED: {sdk_skip}")
    elif sdk_report is not None:
        lost = f", {sdk_report['extra_runs']} more left by starts whose answer was lost" if sdk_report["extra_runs"] else ""
        print(f"crash test: SDK: {arguments.sdk_runs} runs of sequential and {arguments.sdk_sleep_runs} of sleep{lost}; "
              f"{sum(1 for begin, end in sdk_triggers.spans if any(begin < death < end for death in server.deaths))} "
              f"starts spanned a kill, {sdk_triggers.retried} repeated ({len(sdk_triggers.failed_answers)} refused by the app)")
        print(f"crash test: SDK: step code ran {sdk_report['executions']} times, {sdk_report['extra']} re-executions "
              f"(max {sdk_report['most']} extra on one step); {sdk_report['recorded']} steps recorded, {sdk_report['twice']} twice")
        print(f"crash test: SDK: {sdk_report['deliveries']} deliveries to the app, {sdk_report['refused']} answered non-200, "
              f"{sdk_report['redelivered']} repeated ({sdk_report['unprovoked']} after a 200 with no kill since it was sent"
              + (": " + "; ".join(sdk_report["unprovoked_examples"][:3]) if sdk_report["unprovoked"] else "") + ")")
    passed = sum(1 for value in results.values() if value)
    failed = max(len(runs), arguments.runs + arguments.fanout_runs) - passed
    if app is not None:
        sdk_ok = sum(1 for value in sdk_passed.values() if value)
        passed += sdk_ok
        failed += sdk_count - sdk_ok
    print(f"crash test: {passed} passed, {failed} failed")
    return 0 if ok else 1


def finished(server, candidates):
    """The runs of `candidates` that are no longer running (none when the server does not answer)."""
    if not candidates:
        return set()
    try:
        status, body = request("GET", f"{server.base}/api/runs?status=running&limit=1000", timeout=2.0)
    except OSError:
        return set()
    if status != 200:
        return set()
    return set(candidates) - {run["workflowRunId"] for run in body.get("runs", [])}


def verify_no_extra_runs(server, runs, violations):
    try:
        status, body = request("GET", f"{server.base}/api/runs?limit=1000", timeout=10.0)
    except OSError as error:
        violations.append((None, f"cannot list the runs: {error}"))
        return
    listed = [run.get("workflowRunId") for run in body.get("runs", [])] if status == 200 else None
    if listed is None:
        violations.append((None, f"GET /api/runs answered {status}: {body}"))
    elif sorted(listed) != sorted(runs):
        extra = sorted(set(listed) - set(runs))
        missing = sorted(set(runs) - set(listed))
        violations.append((None, f"the server lists {len(listed)} runs for {len(runs)} started: extra {extra[:5]}, missing {missing[:5]}"))


def fetch_run(server, run_id, violation):
    """The run as GET /api/runs/{id} returns it, or None after reporting why it cannot be read."""
    try:
        status, run = request("GET", f"{server.base}/api/runs/{run_id}", timeout=10.0)
    except OSError as error:
        violation(f"cannot read the run: {error}")
        return None
    if status != 200:
        violation(f"GET /api/runs/{run_id} answered {status}: {run}")
        return None
    return run


def check_journaled_results(steps, expected_values, problems):
    """stepIds run 1…N, and each journaled http result (a `Run` entry named in `expected_values`)
    is a 200 whose body's `value` is the expected one."""
    ids = [step.get("stepId") for step in steps]
    if ids != list(range(1, len(steps) + 1)):
        problems.append(f"journal stepIds are {ids}, expected 1…{len(steps)}")
    for step in steps:
        name = step.get("stepName")
        if name in expected_values and step.get("stepType") == "Run":
            out = step.get("out") or {}
            value = (out.get("body") or {}).get("value") if isinstance(out.get("body"), dict) else None
            if out.get("status") != 200 or value != expected_values[name]:
                problems.append(f"journaled result of {name} is status {out.get('status')}, value {value}; "
                                f"expected 200, {expected_values[name]}")


def verify_run(server, run_id, n, violations):
    def violation(message):
        violations.append((run_id, f"(n={n}) {message}"))

    run = fetch_run(server, run_id, violation)
    if run is None:
        return False
    bodies, output = expected_run(n)
    problems = []
    if run.get("status") != "succeeded":
        problems.append(f"status is {run.get('status')!r}, error {run.get('error')!r}")
    elif run.get("output") != output:
        problems.append(f"output is {canonical(run.get('output'))}, expected {canonical(output)}")
    steps = run.get("steps") or []
    journal = [(step.get("stepName"), step.get("stepType")) for step in steps]
    if journal != EXPECTED_STEPS:
        problems.append(f"journal is {journal}, expected {EXPECTED_STEPS}")
    check_journaled_results(steps, {name: answer_value(HTTP_STEPS.index(name) + 1, body) for name, body in bodies.items()}, problems)
    return reported(problems, run, violation)


def verify_requests(runs, counter, violations, results):
    expected_keys = set()
    for run_id, (workflow, payload) in runs.items():
        for key, (path, body) in expected_requests(run_id, workflow, payload).items():
            expected_keys.add(key)
            name = key.split("/", 1)[1]
            label = f"({canonical(payload)})" if workflow == FANOUT_WORKFLOW else f"(n={payload['n']})"
            received = counter.counts.get(key, 0)
            if received == 0:
                violations.append((run_id, f"{label} the counting server never received {name} (Idempotency-Key {key})"))
                results[run_id] = False
                continue
            sent = counter.bodies.get(key, set())
            if sent != {canonical(body)}:
                violations.append((run_id, f"{label} {name} was sent with bodies {sorted(sent)}, expected {canonical(body)}"))
                results[run_id] = False
            paths = counter.paths.get(key, set())
            if paths != {path}:
                violations.append((run_id, f"{label} {name} was sent to {sorted(paths)}, expected {path}"))
                results[run_id] = False
    unexpected = sorted(set(counter.counts) - expected_keys)
    if unexpected:
        violations.append((None, f"requests with unexpected Idempotency-Keys: {unexpected[:5]}"))
    if counter.unkeyed:
        violations.append((None, f"{counter.unkeyed} requests came without an Idempotency-Key"))


def verify_fanout_run(server, run_id, payload, violations):
    """A crash-fanout run: status, output, one journal entry per step path with the expected
    result, and a journal order that respects the dependencies and the for_each concurrency."""
    def violation(message):
        violations.append((run_id, f"({canonical(payload)}) {message}"))

    run = fetch_run(server, run_id, violation)
    if run is None:
        return False
    items = payload["items"]
    requests, output = expected_fanout(run_id, payload["n"], items)
    expected = fanout_paths(len(items))
    problems = []
    if run.get("status") != "succeeded":
        problems.append(f"status is {run.get('status')!r}, error {run.get('error')!r}")
    elif run.get("output") != output:
        problems.append(f"output is {canonical(run.get('output'))}, expected {canonical(output)}")
    steps = run.get("steps") or []
    names = [step.get("stepName") for step in steps]
    seen = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    missing = [name for name in expected if name not in seen]
    duplicated = {name: count for name, count in seen.items() if count > 1}
    unexpected = [name for name in seen if name not in expected]
    if missing:
        problems.append(f"journal lacks {missing}")
    if duplicated:
        problems.append(f"journal holds several entries for {duplicated}")
    if unexpected:
        problems.append(f"journal holds unexpected steps {unexpected}")
    for step in steps:
        name, kind = step.get("stepName"), step.get("stepType")
        if name in expected and kind != expected[name]:
            problems.append(f"journal entry {name} has type {kind!r}, expected {expected[name]!r}")
    check_journaled_results(steps, {name: request[3] for name, request in requests.items()}, problems)
    # Order (by position in the journal; the first entry per name counts): each iteration's sleep
    # after its request, the side sleep after its request, the final request last, and no prefix of
    # the journal with more than FANOUT_CONCURRENCY iterations started (request journaled) and not
    # finished (sleep journaled): the delivery that sent fetch[j] saw at most 2 other unfinished.
    position = {}
    for index, name in enumerate(names):
        position.setdefault(name, index)
    if not missing:
        for index in range(len(items)):
            fetch, nap = f"both.items.fanout[{index}].fetch", f"both.items.fanout[{index}].nap"
            if position[nap] < position[fetch]:
                problems.append(f"journal has {nap} before {fetch}")
        if position["both.side.rest"] < position["both.side.probe"]:
            problems.append("journal has both.side.rest before both.side.probe")
        if position["final"] != max(position.values()):
            problems.append(f"journal has final at position {position['final'] + 1}, not last")
        open_iterations = set()
        for index, name in enumerate(names):
            if name.startswith("both.items.fanout[") and position.get(name) == index:
                iteration = int(name[len("both.items.fanout["):name.index("]")])
                if name.endswith(".fetch"):
                    open_iterations.add(iteration)
                elif name.endswith(".nap"):
                    open_iterations.discard(iteration)
                if len(open_iterations) > FANOUT_CONCURRENCY:
                    problems.append(f"after journal entry {index + 1} ({name}) iterations {sorted(open_iterations)} "
                                    f"are started and unfinished (limit {FANOUT_CONCURRENCY})")
                    break
    for problem in problems:
        violation(problem)
    if problems:
        violation("journal: " + ", ".join(f"{step.get('stepId')}:{step.get('stepName')}" for step in steps))
        attempts = run.get("attempts") or []
        violation("attempts: " + "; ".join(
            f"pos {a.get('position')} try {a.get('attempt')} {a.get('outcome')} {a.get('detail') or ''}".strip()
            for a in attempts[-12:]))
    return not problems


def verify_fanout_concurrency(runs, counter, deaths, violations, results):
    """No crash-fanout run had more than FANOUT_CONCURRENCY /fan/ requests for distinct iterations
    in flight at the counting server at once. A request is in flight from its arrival (body read)
    to its answer, or to the death of the stepwise process that sent it (the first kill after its
    arrival): at the server, a request is in flight for part of the time the engine waits for it,
    never longer, so this only undercounts the engine's concurrency."""
    intervals = {}
    cut = 0
    for run_id, index, key, arrival, answer in counter.fan:
        end = answer if answer is not None else float("inf")
        death = next((moment for moment in deaths if moment > arrival), None)
        if death is not None and death < end:
            end = death
            cut += 1
        intervals.setdefault(run_id, []).append((arrival, end, index, key))
    fanout_runs = [run_id for run_id, (workflow, _) in runs.items() if workflow == FANOUT_WORKFLOW]
    most = 0
    at_limit = 0
    for run_id in fanout_runs:
        spans = intervals.get(run_id, [])
        worst, worst_at = 0, None
        for arrival, _, _, _ in spans:
            active = [span for span in spans if span[0] <= arrival < span[1]]
            distinct = len({span[2] for span in active})
            if distinct > worst:
                worst, worst_at = distinct, active
        most = max(most, worst)
        at_limit += worst >= FANOUT_CONCURRENCY
        if worst > FANOUT_CONCURRENCY:
            results[run_id] = False
            origin = counter.origin
            violations.append((run_id, f"{worst} /fan/ requests of distinct iterations were in flight at once "
                               f"(limit {FANOUT_CONCURRENCY}): " + "; ".join(
                                   f"{key} {arrival - origin:.3f}-{end - origin:.3f} s"
                                   for arrival, end, _, key in sorted(worst_at))))
    return {"runs": len(fanout_runs), "most": most, "at_limit": at_limit, "cut": cut}


def duplicates_without_kill(counter, deaths):
    """Requests received again for a key with no kill of the server since its previous receipt."""
    with counter.lock:
        received = [(moment, key) for moment, event, _, key in counter.log if event == "received" and key is not None]
    last_epoch = {}
    count = 0
    for moment, key in sorted(received):
        epoch = sum(1 for death in deaths if death < moment)
        count += last_epoch.get(key) == epoch
        last_epoch[key] = epoch
    return count


def write_counter_log(path, counter, deaths):
    """The counting server's requests and the kills, in time order (seconds since the start)."""
    try:
        with counter.lock:
            events = [(moment, f"{event} {request_path} {key}") for moment, event, request_path, key in counter.log]
        events += [(moment, f"==== stepwise serve killed (#{number}) ====") for number, moment in enumerate(deaths, 1)]
        with open(path, "w") as log:
            for moment, text in sorted(events, key=lambda event: event[0]):
                log.write(f"{moment - counter.origin:9.3f} {text}\n")
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
