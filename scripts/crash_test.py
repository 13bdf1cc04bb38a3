#!/usr/bin/env python3
"""Crash-safety test of `stepwise serve`: SIGKILL the server while runs are in flight.

Usage:
    python3 scripts/crash_test.py PATH/TO/stepwise [--seed N] [--runs 50] [--kills 5]
                                  [--deadline 180] [--keep]

What it does, all on 127.0.0.1 and with the Python standard library only:

1. writes a workflow (`crash-test`: http, sleep, set, http, sleep, http, output) into a temporary
   folder and checks it with `stepwise validate --strict`;
2. starts a counting HTTP server in a thread: it answers each `POST /step/<k>` with a value
   derived from the request body, after a random 0-50 ms delay, and counts requests per
   `Idempotency-Key`;
3. starts `stepwise serve` on a free port and a fresh SQLite file, starts half of the runs
   (distinct inputs, run ids chosen with `Upstash-Workflow-RunId`), then repeatedly sleeps a random
   0.2-1.5 s, kills the server with SIGKILL and starts it again on the same database and port, at
   least `--kills` times and until every run has ended (or the deadline passes). The other half of
   the runs is started from a thread at random moments during the kills, each start repeated with
   the same run id until acknowledged, so that later kills also land on live runs (50 runs started
   at once all end within about 2 s);
4. checks that every run succeeded with the output computed here from its input, that every
   journal holds exactly the expected steps in order (no gaps, no duplicates), that the counting
   server received every step's request at least once, and that repeated requests carried the
   same body. It reports kills, requests and duplicates (requests beyond the first per key).

The last line is `crash test: N passed, M failed`; the exit status is 0 when every run passed and
nothing else was wrong, 1 otherwise (2 for usage errors). The random generator is seeded (the
seed is printed; `--seed` replays a schedule, up to the timing of the processes).
"""

import argparse
import atexit
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
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


# ---------------------------------------------------------------------------------------------
# The model: what the counting server answers and what each run must output.

def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def answer_value(step, body):
    """The counting server's answer to `POST /step/<step>` with `body`: a 31-bit number."""
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


# ---------------------------------------------------------------------------------------------
# The counting server.

class Counter:
    def __init__(self, seed):
        self.lock = threading.Lock()
        self.counts = {}        # Idempotency-Key -> requests received
        self.bodies = {}        # Idempotency-Key -> set of canonical bodies received
        self.unkeyed = 0        # requests without an Idempotency-Key
        self.truncated = 0      # requests cut short by a kill (not counted as received)
        self.total = 0
        self.random = random.Random(seed)

    def delay(self):
        with self.lock:
            return self.random.uniform(0.0, 0.05)

    def record(self, key, body):
        with self.lock:
            self.total += 1
            if key is None:
                self.unkeyed += 1
                return
            self.counts[key] = self.counts.get(key, 0) + 1
            self.bodies.setdefault(key, set()).add(canonical(body))


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
            if len(parts) != 2 or parts[0] != "step" or not parts[1].isdigit():
                return self.reply(404, {"error": f"no such path {self.path}"})
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return self.reply(400, {"error": "body is not JSON"})
            step = int(parts[1])
            counter.record(self.headers.get("Idempotency-Key"), body)
            time.sleep(counter.delay())
            self.reply(200, {"step": step, "value": answer_value(step, body)})

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

class Stepwise:
    def __init__(self, binary, workflows, database, port, log_path):
        self.binary = binary
        self.workflows = workflows
        self.database = database
        self.port = port
        self.log_path = log_path
        self.process = None
        self.starts = 0

    @property
    def base(self):
        return f"http://{HOST}:{self.port}"

    def start(self, timeout=30.0):
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write(f"\n==== crash_test: start #{self.starts} at {time.strftime('%H:%M:%S')} ====\n")
            log.flush()
            self.process = subprocess.Popen(
                [self.binary, "serve", "--workflows", self.workflows, "--store", f"sqlite:{self.database}",
                 "--host", HOST, "--port", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TestFailure(f"stepwise serve exited with status {self.process.returncode} while starting")
            try:
                status, body = request("GET", f"{self.base}/health", timeout=1.0)
                if status == 200 and body.get("status") == "ok":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise TestFailure(f"stepwise serve did not answer /health within {timeout:.0f} s")

    def kill(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def alive(self):
        return self.process is not None and self.process.poll() is None


class TestFailure(Exception):
    pass


def request(method, url, body=None, timeout=5.0, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
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
        for (run_id, n), pause in self.plan:
            if self.stop.wait(pause) or not self.trigger(run_id, n):
                return

    def trigger(self, run_id, n):
        url = f"{self.server.base}/workflows/{WORKFLOW}"
        tries = 0
        while time.monotonic() < self.deadline and not self.stop.is_set():
            tries += 1
            try:
                status, body = request("POST", url, {"n": n}, headers={"Upstash-Workflow-RunId": run_id})
            except OSError:
                time.sleep(0.05)
                continue
            with self.lock:
                self.retried += tries > 1
                if status == 200 and body.get("workflowRunId") == run_id:
                    self.acknowledged[run_id] = n
                    self.deduplicated += bool(body.get("deduplicated"))
                    if body.get("deduplicated") and tries == 1:
                        self.errors.append(f"the first start of {run_id} was answered as deduplicated: {body}")
                    return True
                self.errors.append(f"starting {run_id} (n={n}) answered {status}: {body}")
                return False
        with self.lock:
            self.errors.append(f"{run_id} (n={n}) was never acknowledged before the deadline")
        return False


# ---------------------------------------------------------------------------------------------
# The test.

def parse_arguments():
    parser = argparse.ArgumentParser(description="SIGKILL crash test of stepwise serve.")
    parser.add_argument("binary", help="path of the stepwise binary")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random schedule (default: random)")
    parser.add_argument("--runs", type=int, default=50, help="runs to trigger (default 50)")
    parser.add_argument("--kills", type=int, default=5, help="least number of SIGKILLs (default 5)")
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds until unfinished runs fail the test (default 180)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (kept anyway on failure)")
    arguments = parser.parse_args()
    if not (os.path.isfile(arguments.binary) and os.access(arguments.binary, os.X_OK)):
        parser.error(f"{arguments.binary} is not an executable file")
    if arguments.runs < 1 or arguments.kills < 0 or arguments.deadline <= 0:
        parser.error("--runs must be ≥ 1, --kills ≥ 0, --deadline > 0")
    if arguments.seed is None:
        arguments.seed = random.SystemRandom().randrange(1, 2**31)
    return arguments


def main():
    arguments = parse_arguments()
    binary = os.path.abspath(arguments.binary)
    rng = random.Random(arguments.seed)
    print(f"crash test: seed {arguments.seed} (replay with --seed {arguments.seed})", flush=True)
    began = time.monotonic()

    folder = tempfile.mkdtemp(prefix="stepwise-crash-")
    workflows = os.path.join(folder, "workflows")
    os.mkdir(workflows)
    database = os.path.join(folder, "stepwise.db")
    log_path = os.path.join(folder, "serve.log")

    counter = Counter(rng.randrange(2**31))
    counting = CountingServer((HOST, 0), make_handler(counter))
    threading.Thread(target=counting.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    counter_port = counting.server_address[1]

    server = Stepwise(binary, workflows, database, free_port(), log_path)
    atexit.register(server.kill)
    # SIGTERM/SIGINT of this script still kill the child (through finally and atexit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    violations = []   # (run id or None, message)
    results = {}      # run id -> passed
    kills = 0
    kills_in_flight = 0
    starts_repeated = starts_deduplicated = 0
    runs = {}         # run id -> n
    triggers = None
    ok = False
    try:
        with open(os.path.join(workflows, f"{WORKFLOW}.yaml"), "w") as file:
            file.write(WORKFLOW_YAML.format(host=HOST, port=counter_port))
        check = subprocess.run([binary, "validate", "--strict", workflows], capture_output=True, text=True, timeout=60)
        if check.returncode != 0:
            print(check.stdout + check.stderr, end="")
            raise TestFailure(f"the test workflow does not validate (exit status {check.returncode})")

        server.start()
        # Half of the runs start before the first kill; the others start at random moments while
        # the server is being killed (a start lost to a kill is repeated with the same run id).
        inputs = rng.sample(range(1, 1_000_000), arguments.runs)
        plan = [(f"wfr_crash_{arguments.seed}_{index:03d}", n) for index, n in enumerate(inputs)]
        runs.update(plan)
        upfront = (arguments.runs + 1) // 2
        mean_pause = max(0.85 * arguments.kills, 1.0) / max(arguments.runs - upfront, 1)
        pauses = [rng.uniform(0.0, 2 * mean_pause) for _ in plan[upfront:]]
        deadline = began + arguments.deadline
        triggers = Triggers(server, deadline)
        for run_id, n in plan[:upfront]:
            if not triggers.trigger(run_id, n):
                raise TestFailure("; ".join(triggers.errors))
        print(f"crash test: {upfront} runs of {WORKFLOW} started, {arguments.runs - upfront} more to start while killing; "
              f"stepwise on port {server.port}, counting server on port {counter_port}", flush=True)
        triggers.schedule(plan[upfront:], pauses)
        triggers.start()

        # Kill and restart the server at random moments, at least `--kills` times and until every
        # run has started and ended, or until the deadline.
        ended = set()
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 1.5))
            ended |= finished(server, triggers.acknowledged_ids())
            in_flight = triggers.is_alive() or len(ended) < len(triggers.acknowledged_ids())
            if kills >= arguments.kills and not in_flight:
                break
            if not server.alive():
                raise TestFailure(f"stepwise serve exited by itself with status {server.process.returncode}")
            server.kill()
            kills += 1
            kills_in_flight += in_flight
            server.start()
        triggers.stop.set()
        triggers.join()
        if time.monotonic() >= deadline:
            violations.append((None, f"the deadline ({arguments.deadline:.0f} s) passed before every run had ended"))
        for error in triggers.errors:
            violations.append((None, error))
        starts_repeated = triggers.retried
        starts_deduplicated = triggers.deduplicated

        if not server.alive():
            raise TestFailure(f"stepwise serve exited by itself with status {server.process.returncode}")
        # Read every run (they are final or the deadline has passed).
        for run_id, n in runs.items():
            passed = verify_run(server, run_id, n, violations)
            results[run_id] = passed
        verify_requests(runs, counter, violations)
        verify_no_extra_runs(server, runs, violations)
        ok = not violations and all(results.values()) and len(results) == len(runs)
    except TestFailure as failure:
        violations.append((None, str(failure)))
    finally:
        if triggers is not None:
            triggers.stop.set()
        server.kill()
        counting.shutdown()
        counting.server_close()

    elapsed = time.monotonic() - began
    duplicates = sum(count - 1 for count in counter.counts.values() if count > 1)
    most = max(counter.counts.values(), default=0)
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
    passed = sum(1 for value in results.values() if value)
    failed = max(len(runs), arguments.runs) - passed
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


def verify_run(server, run_id, n, violations):
    def violation(message):
        violations.append((run_id, f"(n={n}) {message}"))

    try:
        status, run = request("GET", f"{server.base}/api/runs/{run_id}", timeout=10.0)
    except OSError as error:
        violation(f"cannot read the run: {error}")
        return False
    if status != 200:
        violation(f"GET /api/runs/{run_id} answered {status}: {run}")
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
    ids = [step.get("stepId") for step in steps]
    if ids != list(range(1, len(steps) + 1)):
        problems.append(f"journal stepIds are {ids}, expected 1…{len(steps)}")
    for step in steps:
        name = step.get("stepName")
        if name in bodies and step.get("stepType") == "Run":
            out = step.get("out") or {}
            value = (out.get("body") or {}).get("value") if isinstance(out.get("body"), dict) else None
            expected = answer_value(HTTP_STEPS.index(name) + 1, bodies[name])
            if out.get("status") != 200 or value != expected:
                problems.append(f"journaled result of {name} is status {out.get('status')}, value {value}; expected 200, {expected}")
    for problem in problems:
        violation(problem)
    if problems:
        attempts = run.get("attempts") or []
        violation("attempts: " + "; ".join(
            f"pos {a.get('position')} try {a.get('attempt')} {a.get('outcome')} {a.get('detail') or ''}".strip()
            for a in attempts[-12:]))
    return not problems


def verify_requests(runs, counter, violations):
    expected_keys = set()
    for run_id, n in runs.items():
        bodies, _ = expected_run(n)
        for name in HTTP_STEPS:
            key = f"{run_id}/{name}"
            expected_keys.add(key)
            received = counter.counts.get(key, 0)
            if received == 0:
                violations.append((run_id, f"(n={n}) the counting server never received {name} (Idempotency-Key {key})"))
                continue
            sent = counter.bodies.get(key, set())
            if sent != {canonical(bodies[name])}:
                violations.append((run_id, f"(n={n}) {name} was sent with bodies {sorted(sent)}, expected {canonical(bodies[name])}"))
    unexpected = sorted(set(counter.counts) - expected_keys)
    if unexpected:
        violations.append((None, f"requests with unexpected Idempotency-Keys: {unexpected[:5]}"))
    if counter.unkeyed:
        violations.append((None, f"{counter.unkeyed} requests came without an Idempotency-Key"))


if __name__ == "__main__":
    sys.exit(main())
