#!/usr/bin/env python3
"""Stepwise against a peer, DBOS Transact for Python, shape by shape, in one run (issue 11's table).

    python3 scripts/bench_peer.py [--stepwise BIN] [--parts 1,2,3,4,5,6,7] [--reps 3] [--quick]

BIN is a release build of `stepwise` (default .build/release/stepwise). The peer is installed from
PyPI into a virtual environment the script creates (`--venv`, default .build/bench-venv; `pip
install dbos==3.4.0`, `--dbos-version`) and driven through scripts/bench_peer_dbos.py, which runs
DBOS on its SQLite system database with WAL and synchronous = FULL, as Stepwise's store.

Everything runs on 127.0.0.1: a loopback HTTP stub (a process of its own, asyncio) answers every
step's `GET /h/<group>/<run>/<i>` with a small JSON body and records when each request arrived;
`stepwise serve` (SQLite store, its default concurrency unless `--concurrency`) and the DBOS process
each run the same workflows, every step being one such GET. Each rep of a part starts a fresh
server on a fresh store, runs a 10-step warm-up run where the part times a single run, then
measures; the two systems alternate (Stepwise, DBOS, Stepwise, DBOS, ...). Before each part the
disk under the store's folder is probed for `--probe-seconds` (default 1): fsync'd 64-byte appends
per second and SQLite commits per second (WAL, synchronous = FULL, one INSERT per transaction).

The parts (sizes in brackets are `--quick`'s):
1. one run of 1,000 [100] sequential http steps: cost per step = (arrival of step n's request at the
   stub - the start request) / n.
2. a run of 5,000 [300] steps: the per-step cost (time between consecutive step requests at the
   stub) of the last 100 steps ÷ that of the first 100: cycles 1-100 are arrival[101] - arrival[1],
   the last ones arrival[n] - arrival[n-100].
3. part 1 with the store (and the probe) on tmpfs (/dev/shm): the server process's CPU time
   (utime + stime from /proc/<pid>/stat) from the start request to step n's request, / n.
4. 200 [20] runs × 10 steps started at once (16 client threads): steps/s = 2,000 / (last step
   request's arrival - first start). Stepwise also with `--concurrency 256` (`--extra-concurrency`).
5. 1,000 [100] runs that sleep until one common due time (`sleep_until`; DBOS.sleep(due - now)),
   then make one request: lag = arrival of that request - due; p99 (nearest rank). The due time is
   `--wake-after` s after the first start: 5 s + 5 ms per run (10 s for 1,000 runs, the starts taking
   up to ~5 s on DBOS), so every run sleeps at least ~5 s; a rep whose starts end less than
   `--wake-margin` s before the due time gets a note.
6. a run of 100 steps, SIGKILL'd when step 20's request arrives, restarted on the same store: time
   from spawning the new process to the arrival of the run's next step request.
7. 10,000 [100] runs parked on a 24 h sleep: server VmRSS after every run's sleep is in the store
   (Stepwise: rows of `operations`; DBOS: `DBOS.sleep` rows of `operation_outputs`) and
   `--settle` seconds (default 12: Stepwise returns freed memory every 10 s); VmHWM printed too.

Sizes can be overridden (`--steps`, `--long-steps`, `--runs`, `--wake-runs`, `--parked`). The
final table gives per shape the medians over the reps with [min-max], the ratio Stepwise/DBOS of
the medians, and the issue's goal. Child processes are killed on exit, errors and Ctrl-C.
Linux only (/proc). The driver uses the Python standard library only.
"""

import argparse
import atexit
import concurrent.futures
import json
import math
import re
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import http.client
import uuid

from parked_memory import memory_of  # VmRSS and VmHWM of a process (scripts/ is on the path)

HOST = "127.0.0.1"
TOKEN = "bench-peer-token"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DBOS_SCRIPT = os.path.join(HERE, "bench_peer_dbos.py")

# ---------------------------------------------------------------------------------------------
# Child processes: every one is registered and killed on exit.

CHILDREN = []
_children_lock = threading.Lock()


def spawn(argv, log_path, **kwargs):
    log = open(log_path, "ab")
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **kwargs)
    finally:
        log.close()
    with _children_lock:
        CHILDREN.append(process)
    return process


def kill_children():
    with _children_lock:
        processes = list(CHILDREN)
    for process in processes:
        if process.poll() is None:
            try:
                process.kill()
            except OSError:
                pass
    for process in processes:
        try:
            process.wait(timeout=10)
        except (subprocess.TimeoutExpired, OSError):
            pass


def _on_signal(signum, _frame):
    kill_children()
    sys.exit(128 + signum)


# ---------------------------------------------------------------------------------------------
# The loopback HTTP stub (`bench_peer.py --stub-server PORT`, a process of its own).

def json_answer(body):
    """A whole `200` HTTP/1.1 answer carrying the JSON bytes `body`."""
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


STUB_ANSWER = json_answer(b'{"ok":true}')


def stub_main(port):
    import asyncio

    records = {}    # group -> [(run, step, arrival time.time())]
    answer = [STUB_ANSWER]  # what /h/ requests get; /_body/N makes it a body of N bytes
    waiters = {}    # group -> [(count, future)]

    def record(group, run, step, now):
        entries = records.setdefault(group, [])
        entries.append((run, step, now))
        pending = waiters.get(group)
        if pending:
            still = []
            for count, future in pending:
                if len(entries) >= count:
                    if not future.done():
                        future.set_result(None)
                else:
                    still.append((count, future))
            waiters[group] = still

    async def control(path):
        route, _, query = path.partition("?")
        parts = route.strip("/").split("/")
        if parts[0] == "_wait" and len(parts) == 3:
            group, count = parts[1], int(parts[2])
            timeout = float(query.partition("timeout=")[2] or 60)
            entries = records.get(group, [])
            if len(entries) < count:
                future = asyncio.get_running_loop().create_future()
                waiters.setdefault(group, []).append((count, future))
                try:
                    await asyncio.wait_for(future, timeout)
                except asyncio.TimeoutError:
                    pass
                entries = records.get(group, [])
            return {"count": len(entries), "t": entries[count - 1][2] if len(entries) >= count else None}
        if parts[0] == "_body" and len(parts) == 2:
            body = b'{"pad":"' + b"x" * max(0, int(parts[1]) - 10) + b'"}'
            answer[0] = json_answer(body)
            return {"body": len(body)}
        if parts[0] == "_count" and len(parts) == 2:
            return {"count": len(records.get(parts[1], []))}
        if parts[0] == "_dump" and len(parts) == 2:
            return records.get(parts[1], [])
        if parts[0] == "_drop" and len(parts) == 2:
            records.pop(parts[1], None)
            return {"dropped": parts[1]}
        return {"error": f"no route {path}"}

    async def handle(reader, writer):
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                now = time.time()
                length, close = 0, False
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    key, _, value = header.partition(b":")
                    key = key.strip().lower()
                    if key == b"content-length":
                        length = int(value)
                    elif key == b"connection" and value.strip().lower() == b"close":
                        close = True
                if length:
                    await reader.readexactly(length)
                fields = line.split()
                path = fields[1].decode() if len(fields) > 1 else "/"
                if path.startswith("/h/"):
                    parts = path.partition("?")[0].split("/")
                    if len(parts) == 5 and parts[4].isdigit():
                        record(parts[2], parts[3], int(parts[4]), now)
                    writer.write(answer[0])
                else:
                    writer.write(json_answer(json.dumps(await control(path)).encode()))
                await writer.drain()
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass

    async def serve():
        server = await asyncio.start_server(handle, HOST, port, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


# ---------------------------------------------------------------------------------------------
# HTTP clients (kept-alive connections, one per thread and port).

_local = threading.local()


def call(port, method, path, body=None, headers=None, timeout=60.0):
    """One request to 127.0.0.1:port; returns (status, decoded JSON or None)."""
    connections = getattr(_local, "connections", None)
    if connections is None:
        connections = _local.connections = {}
    data = None if body is None else json.dumps(body).encode()
    sent_headers = {"Authorization": f"Bearer {TOKEN}", **(headers or {})}
    if data is not None:
        sent_headers["Content-Type"] = "application/json"
    for attempt in (1, 2):
        conn = connections.get(port)
        if conn is None:
            conn = connections[port] = http.client.HTTPConnection(HOST, port, timeout=timeout)
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        try:
            conn.request(method, path, body=data, headers=sent_headers)
            response = conn.getresponse()
            raw = response.read()
            try:
                return response.status, json.loads(raw) if raw else None
            except ValueError:
                return response.status, {"raw": raw[:500].decode(errors="replace")}
        except (http.client.HTTPException, OSError):
            conn.close()
            connections.pop(port, None)
            if attempt == 2:
                raise


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Stub:
    def __init__(self, folder):
        self.port = free_port()
        self.process = spawn([sys.executable, os.path.abspath(__file__), "--stub-server", str(self.port)],
                             os.path.join(folder, "stub.log"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                call(self.port, "GET", "/_count/none", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the HTTP stub did not start")

    @property
    def url(self):
        return f"http://{HOST}:{self.port}"

    def wait(self, group, count, timeout):
        """Time (time.time()) of the count-th arrival of the group, or None after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            chunk = min(left, 30.0)
            _, answer = call(self.port, "GET", f"/_wait/{group}/{count}?timeout={chunk:.3f}", timeout=chunk + 30)
            if answer["t"] is not None:
                return answer["t"]

    def count(self, group):
        return call(self.port, "GET", f"/_count/{group}")[1]["count"]

    def set_body(self, size):
        """Makes every step request's answer a JSON body of about `size` bytes (11 by default)."""
        call(self.port, "GET", f"/_body/{size}")

    def dump(self, group):
        return call(self.port, "GET", f"/_dump/{group}", timeout=120)[1]

    def drop(self, group):
        call(self.port, "GET", f"/_drop/{group}")


# ---------------------------------------------------------------------------------------------
# /proc readings.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# ---------------------------------------------------------------------------------------------
# The disk probe.

def probe_disk(folder, seconds):
    record = b"x" * 63 + b"\n"
    path = os.path.join(folder, "probe-appends.bin")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    count, start = 0, time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            os.write(fd, record)
            os.fsync(fd)
            count += 1
    finally:
        os.close(fd)
        os.unlink(path)
    appends = count / (time.perf_counter() - start)
    database = os.path.join(folder, "probe.db")
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, value BLOB)")
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            connection.execute("INSERT INTO probe (value) VALUES (?)", (record,))
            count += 1
        commits = count / (time.perf_counter() - start)
    finally:
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(database + suffix)
            except FileNotFoundError:
                pass
    return appends, commits


# ---------------------------------------------------------------------------------------------
# The two systems, behind one interface.

class Failure(Exception):
    pass


ODDITIES = []   # found by the systems' wrappers (unexpected exits, errors in logs); become notes
LOG_TROUBLE = re.compile(r"\b(error|warning|critical|fatal|panic)\b", re.IGNORECASE)


def wait_health(process, port, what, log_path, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Failure(f"{what} exited with status {process.returncode} while starting; log:\n{tail(log_path)}")
        try:
            status, body = call(port, "GET", "/health", timeout=1.0)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.01)
    raise Failure(f"{what} did not answer /health within {timeout:.0f} s; log:\n{tail(log_path)}")


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as log:
            return "".join(log.readlines()[-lines:])
    except OSError as error:
        return f"(cannot read {path}: {error})"


def stepwise_yaml(name, stub_url, steps):
    lines = [f"workflow: {name}", "env:", f"  STUB: {stub_url}", "steps:"]
    lines += steps
    return "\n".join(lines) + "\n"


def http_step(step_id, index):
    return [f"  - id: {step_id}",
            f'    http: {{method: GET, url: "${{{{ env.STUB }}}}/h/${{{{ input.group }}}}/${{{{ input.run }}}}/{index}"}}']


class System:
    label = "?"
    process = None
    port = None
    log_path = None

    @property
    def pid(self):
        return self.process.pid

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is not None:
            ODDITIES.append(f"{self.label} exited by itself with status {self.process.returncode} "
                            f"(log {self.log_path}): {tail(self.log_path, 3)}")
        else:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.scan_log()

    def scan_log(self):
        """Lines of the server's log that speak of errors or warnings become notes."""
        try:
            with open(self.log_path, errors="replace") as log:
                lines = [line.strip() for line in log if LOG_TROUBLE.search(line)]
        except OSError:
            return
        if lines:
            ODDITIES.append(f"{self.label}: {len(lines)} error/warning lines in {self.log_path}, first: {lines[0][:300]}")

    def run_many(self, workflow, group, runs, threads=16, **params):
        """Starts runs 1..runs at once from `threads` client threads; returns (ids, failures)."""
        def one(index):
            try:
                return self.start_run(workflow, group, f"r{index}", **params), None
            except Exception as error:  # counted, reported
                return None, f"{type(error).__name__}: {error}"
        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
            answers = list(pool.map(one, range(1, runs + 1)))
        return [a for a, _ in answers if a], [e for _, e in answers if e]


class Stepwise(System):
    label = "Stepwise"

    def __init__(self, binary, folder, stub, concurrency, seq_sizes=(), store=None):
        self.binary, self.folder, self.stub, self.concurrency = binary, folder, stub, concurrency
        self.workflows = os.path.join(folder, "workflows")
        self.database = os.path.join(folder, "stepwise.db")
        self.store = store or f"sqlite:{self.database}"
        self.log_path = os.path.join(folder, "serve.log")
        os.makedirs(self.workflows, exist_ok=True)
        for n in sorted(set(seq_sizes)):
            steps = []
            for i in range(1, n + 1):
                steps += http_step(f"s{i}", i)
            self.write(f"seq{n}", steps)
        self.write("wake", ['  - id: nap', '    sleep_until: "${{ input.due }}"'] + http_step("ping", 1))
        self.write("parked", ["  - id: nap", "    sleep: 24h"])
        self.port = free_port()

    def write(self, name, steps):
        with open(os.path.join(self.workflows, f"{name}.yaml"), "w") as file:
            file.write(stepwise_yaml(name, self.stub.url, steps))

    def start(self, wait=True):
        self.process = spawn(
            [self.binary, "serve", "--workflows", self.workflows, "--store", self.store,
             "--host", HOST, "--port", str(self.port), "--token", TOKEN]
            + (["--concurrency", str(self.concurrency)] if self.concurrency else []),
            self.log_path, cwd=self.folder)
        if wait:
            wait_health(self.process, self.port, "stepwise serve", self.log_path)

    def start_run(self, workflow, group, run, n=None, due=None, seconds=None):
        run_id = f"{group}.{run}"
        name = f"seq{n}" if workflow == "seq" else workflow
        body = {"group": group, "run": run}
        if due is not None:
            body["due"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(due)) + f".{int(due * 1000) % 1000:03d}Z"
        status, answer = call(self.port, "POST", f"/workflows/{name}", body,
                              headers={"Upstash-Workflow-RunId": run_id})
        if status != 200:
            raise Failure(f"POST /workflows/{name} answered {status}: {answer}")
        return answer["workflowRunId"]

    def statuses(self):
        """run id -> 'succeeded' | 'running' | 'failed' | ... for every run."""
        result, cursor = {}, None
        while True:
            path = "/api/runs?limit=1000" + (f"&cursor={cursor}" if cursor else "")
            status, answer = call(self.port, "GET", path, timeout=120)
            if status != 200:
                raise Failure(f"GET {path} answered {status}: {answer}")
            for run in answer.get("runs", []):
                result[run["workflowRunId"]] = run.get("status")
            cursor = answer.get("cursor")
            if not cursor:
                return result

    def done(self, status):
        return status in ("succeeded", "failed", "canceled")

    def ok(self, status):
        return status == "succeeded"

    def parked_count(self):
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30) as connection:
            return connection.execute("SELECT COUNT(*) FROM operations").fetchone()[0]


class Dbos(System):
    label = "DBOS"

    def __init__(self, python, folder, stub):
        self.python, self.folder, self.stub = python, folder, stub
        self.database = os.path.join(folder, "dbos.sqlite")
        self.log_path = os.path.join(folder, "dbos.log")
        os.makedirs(folder, exist_ok=True)
        self.port = free_port()

    def start(self, wait=True):
        self.process = spawn([self.python, DBOS_SCRIPT, "--db", self.database, "--port", str(self.port),
                              "--stub", self.stub.url], self.log_path, cwd=self.folder)
        if wait:
            wait_health(self.process, self.port, "bench_peer_dbos.py", self.log_path)

    def start_run(self, workflow, group, run, n=None, due=None, seconds=None):
        run_id = f"{group}.{run}"
        args = [group, run, n if workflow == "seq" else due if workflow == "wake" else 86400.0]
        status, answer = call(self.port, "POST", f"/start/{workflow}", {"id": run_id, "args": args})
        if status != 200:
            raise Failure(f"POST /start/{workflow} answered {status}: {answer}")
        return answer["workflowRunId"]

    def statuses(self):
        status, answer = call(self.port, "GET", "/statuses", timeout=120)
        if status != 200:
            raise Failure(f"GET /statuses answered {status}: {answer}")
        return answer

    def done(self, status):
        return status not in ("PENDING", "ENQUEUED", "DELAYED")

    def ok(self, status):
        return status == "SUCCESS"

    def parked_count(self):
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=30) as connection:
            return connection.execute(
                "SELECT COUNT(*) FROM operation_outputs WHERE function_name = 'DBOS.sleep'").fetchone()[0]


# ---------------------------------------------------------------------------------------------
# The benchmark.

def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Bench:
    def __init__(self, options):
        self.o = options
        self.base = tempfile.mkdtemp(prefix="bench-peer-", dir=options.dir)
        self.shm_base = None
        self.stub = Stub(self.base)
        self.results = {}       # row -> system label -> [values]
        self.extra = {}         # (row, label) -> [dict]
        self.notes = []         # oddities, failures
        self.probes = []        # (part, folder, appends/s, commits/s)
        self.counter = 0

    def scratch(self, tmpfs=False):
        self.counter += 1
        if tmpfs:
            if self.shm_base is None:
                self.shm_base = tempfile.mkdtemp(prefix="bench-peer-", dir="/dev/shm")
            base = self.shm_base
        else:
            base = self.base
        folder = os.path.join(base, f"s{self.counter}")
        os.makedirs(folder)
        return folder

    def cleanup(self):
        for folder in (self.base, self.shm_base):
            if folder and not self.o.keep:
                shutil.rmtree(folder, ignore_errors=True)

    def system(self, which, tmpfs=False, seq_sizes=(), concurrency=None):
        folder = self.scratch(tmpfs)
        if which == "Stepwise":
            return Stepwise(self.o.stepwise, folder, self.stub, concurrency or self.o.concurrency, seq_sizes)
        return Dbos(self.o.python, folder, self.stub)

    def record(self, row, label, value, **extra):
        self.results.setdefault(row, {}).setdefault(label, []).append(value)
        self.extra.setdefault((row, label), []).append(extra)

    def note(self, text):
        self.notes.append(text)
        print(f"  NOTE: {text}", flush=True)

    def group(self):
        return "g" + uuid.uuid4().hex[:10]

    def probe(self, part, tmpfs=False):
        folder = self.scratch(tmpfs)
        appends, commits = probe_disk(folder, self.o.probe_seconds)
        shutil.rmtree(folder, ignore_errors=True)
        self.probes.append((part, "tmpfs" if tmpfs else "disk", appends, commits))
        print(f"part {part}: disk probe in {os.path.dirname(folder)}: {appends:,.0f} fsync'd appends/s, "
              f"{commits:,.0f} SQLite WAL+FULL commits/s", flush=True)

    def finish_runs(self, system, ids, timeout):
        """Waits until every run has ended; returns (succeeded, not ok, not ended)."""
        deadline = time.monotonic() + timeout
        wanted = set(ids)
        while True:
            statuses = system.statuses()
            seen = {i: statuses.get(i) for i in wanted}
            pending = [i for i, s in seen.items() if s is None or not system.done(s)]
            if not pending or time.monotonic() > deadline:
                bad = [f"{i}: {s}" for i, s in seen.items() if s is not None and system.done(s) and not system.ok(s)]
                return len(wanted) - len(bad) - len(pending), bad, pending
            time.sleep(0.5)

    def check_runs(self, system, ids, timeout, what):
        ok, bad, pending = self.finish_runs(system, ids, timeout)
        if bad or pending:
            self.note(f"{system.label} {what}: {len(bad)} runs ended badly {bad[:3]}, {len(pending)} not ended "
                      f"after {timeout:.0f} s; log tail:\n{tail(system.log_path)}")
        return not bad and not pending

    def warm_up(self, system):
        group = self.group()
        run_id = system.start_run("seq", group, "warm", n=10)
        if self.stub.wait(group, 10, 60) is None:
            raise Failure(f"{system.label}: the 10-step warm-up run did not finish within 60 s")
        self.check_runs(system, [run_id], 60, "warm-up run")
        self.stub.drop(group)

    # -- parts ---------------------------------------------------------------------------------

    def sequential(self, label, n, tmpfs):
        """One run of n steps on a fresh server; returns wall s, cpu s, arrivals (step -> time)."""
        system = self.system(label, tmpfs=tmpfs, seq_sizes=(10, n))
        try:
            system.start()
            self.warm_up(system)
            group = self.group()
            cpu0 = cpu_seconds(system.pid)
            t0 = time.time()
            run_id = system.start_run("seq", group, "r1", n=n)
            end = self.stub.wait(group, n, self.o.step_timeout * n + 60)
            cpu1 = cpu_seconds(system.pid)
            if end is None:
                raise Failure(f"{system.label}: run of {n} steps did not reach step {n} in time "
                              f"({self.stub.count(group)} requests); log:\n{tail(system.log_path)}")
            arrivals = {}
            for _, step, moment in self.stub.dump(group):
                arrivals.setdefault(step, moment)
            if len(arrivals) != n:
                self.note(f"{system.label}: {n}-step run sent requests for {len(arrivals)} distinct steps")
            repeats = self.stub.count(group) - len(arrivals)
            if repeats:
                self.note(f"{system.label}: {n}-step run sent {repeats} repeated step requests")
            self.check_runs(system, [run_id], 120, f"{n}-step run")
            self.stub.drop(group)
            return end - t0, cpu1 - cpu0, arrivals
        finally:
            system.stop()

    def part1(self, label):
        n = self.o.steps
        wall, cpu, _ = self.sequential(label, n, tmpfs=False)
        self.record("p1", label, 1000 * wall / n)
        print(f"  {label:8} {1000 * wall / n:8.3f} ms/step  ({n} steps in {wall:.2f} s, server CPU {1000 * cpu / n:.3f} ms/step)", flush=True)

    def part2(self, label):
        n = self.o.long_steps
        wall, cpu, arrivals = self.sequential(label, n, tmpfs=False)
        first = (arrivals[101] - arrivals[1]) / 100
        last = (arrivals[n] - arrivals[n - 100]) / 100
        self.record("p2", label, last / first, first=1000 * first, last=1000 * last)
        print(f"  {label:8} last/first {last / first:6.2f}×  (first 100: {1000 * first:.3f} ms/step, last 100: "
              f"{1000 * last:.3f} ms/step; whole run {1000 * wall / n:.3f} ms/step)", flush=True)

    def part3(self, label):
        n = self.o.steps
        wall, cpu, _ = self.sequential(label, n, tmpfs=True)
        self.record("p3", label, 1000 * cpu / n, wall=1000 * wall / n)
        print(f"  {label:8} {1000 * cpu / n:8.3f} ms CPU/step  (wall {1000 * wall / n:.3f} ms/step, on tmpfs)", flush=True)

    def part4(self, label, concurrency=None, row="p4"):
        runs, steps = self.o.runs, 10
        system = self.system(label, seq_sizes=(10,), concurrency=concurrency)
        try:
            system.start()
            self.warm_up(system)
            group = self.group()
            t0 = time.time()
            ids, errors = system.run_many("seq", group, runs, n=steps)
            started = time.time()
            end = self.stub.wait(group, runs * steps, self.o.step_timeout * runs * steps + 60)
            if errors:
                self.note(f"{system.label}: {len(errors)} of {runs} starts failed: {errors[:3]}")
            if end is None:
                raise Failure(f"{system.label}: {runs}×{steps} steps not all requested in time "
                              f"({self.stub.count(group)}); log:\n{tail(system.log_path)}")
            rate = runs * steps / (end - t0)
            self.check_runs(system, ids, 120, f"{runs} runs × {steps} steps")
            self.stub.drop(group)
            self.record(row, label, rate, starts=started - t0)
            extra = f" --concurrency {concurrency}" if concurrency else ""
            print(f"  {label + extra:24} {rate:8.1f} steps/s  ({runs * steps} steps in {end - t0:.2f} s; "
                  f"starts took {started - t0:.2f} s)", flush=True)
        finally:
            system.stop()

    def part5(self, label):
        runs = self.o.wake_runs
        system = self.system(label)
        try:
            system.start()
            group = self.group()
            t0 = time.time()
            due = t0 + self.o.wake_after
            ids, errors = system.run_many("wake", group, runs, due=due)
            started = time.time()
            if errors:
                self.note(f"{system.label}: {len(errors)} of {runs} starts failed: {errors[:3]}")
            if started > due - self.o.wake_margin:
                self.note(f"{system.label}: starting {runs} runs took {started - t0:.2f} s, past due - "
                          f"{self.o.wake_margin} s; this rep's lags include start backlog (raise --wake-after)")
            end = self.stub.wait(group, len(ids), max(0, due - time.time()) + 300)
            if end is None:
                self.note(f"{system.label}: only {self.stub.count(group)} of {len(ids)} woke within 300 s of the due time")
            firsts = {}
            for run, _, moment in self.stub.dump(group):
                firsts.setdefault(run, moment)
            lags = [1000 * (moment - due) for moment in firsts.values()]
            if not lags:
                raise Failure(f"{system.label}: no run woke")
            self.check_runs(system, ids, 120, f"{runs} sleeping runs")
            self.stub.drop(group)
            p99 = percentile(lags, 0.99)
            self.record("p5", label, p99, p50=percentile(lags, 0.5), max=max(lags), early=sum(l < 0 for l in lags))
            early = sum(lag < 0 for lag in lags)
            print(f"  {label:8} p99 lag {p99:8.1f} ms  (p50 {percentile(lags, 0.5):.1f}, max {max(lags):.1f}, "
                  f"min {min(lags):.1f} ms; {len(lags)} runs woke; starts took {started - t0:.2f} s"
                  + (f"; {early} EARLY" if early else "") + ")", flush=True)
        finally:
            system.stop()

    def part6(self, label):
        n, kill_at = self.o.kill_steps, 20
        system = self.system(label, seq_sizes=(10, n))
        try:
            system.start()
            self.warm_up(system)
            group = self.group()
            run_id = system.start_run("seq", group, "r1", n=n)
            if self.stub.wait(group, kill_at, 120) is None:
                raise Failure(f"{system.label}: step {kill_at} never came")
            system.kill()
            before = self.stub.count(group)
            steps_before = {step for _, step, _ in self.stub.dump(group)}
            t0 = time.time()
            system.start(wait=False)
            arrival = self.stub.wait(group, before + 1, 120)
            if arrival is None:
                raise Failure(f"{system.label}: no step request within 120 s of the restart; log:\n{tail(system.log_path)}")
            entries = self.stub.dump(group)
            step = entries[before][1]
            wait_health(system.process, system.port, system.label, system.log_path)
            self.check_runs(system, [run_id], 120, "the killed and restarted run")
            entries = self.stub.dump(group)
            distinct = {s for _, s, _ in entries}
            self.stub.drop(group)
            self.record("p6", label, arrival - t0)
            print(f"  {label:8} {arrival - t0:7.3f} s to the next step  (killed after {before} requests, max step "
                  f"{max(steps_before)}; first after restart: step {step}"
                  f"{' (a repeat)' if step in steps_before else ''}; run ended with {len(distinct)}/{n} steps, "
                  f"{len(entries) - len(distinct)} repeated requests)", flush=True)
        finally:
            system.stop()

    def part7(self, label):
        runs = self.o.parked
        system = self.system(label)
        try:
            system.start()
            idle, _ = memory_of(system.pid)
            group = self.group()
            t0 = time.time()
            ids, errors = system.run_many("parked", group, runs)
            started = time.time()
            if errors:
                self.note(f"{system.label}: {len(errors)} of {runs} starts failed: {errors[:3]}")
            deadline = time.monotonic() + 900
            while True:
                parked = system.parked_count()
                if parked >= len(ids) or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            all_parked = time.time()
            if parked < len(ids):
                self.note(f"{system.label}: only {parked} of {len(ids)} runs parked within 900 s")
            time.sleep(self.o.settle)
            rss, peak = memory_of(system.pid)
            self.record("p7", label, rss / 1048576, peak=peak / 1048576)
            print(f"  {label:8} RSS {rss / 1048576:7.1f} MiB  (peak {peak / 1048576:.1f} MiB, idle {idle / 1048576:.1f} MiB; "
                  f"{parked} parked; starts took {started - t0:.1f} s, all parked after {all_parked - t0:.1f} s)", flush=True)
        finally:
            system.stop()

    def run(self):
        systems = ["Stepwise", "DBOS"]
        parts = {
            1: (self.part1, f"one run of {self.o.steps:,} sequential http steps"),
            2: (self.part2, f"per-step cost, last 100 ÷ first 100 steps of a {self.o.long_steps:,}-step run"),
            3: (self.part3, f"part 1 on tmpfs: server CPU per step"),
            4: (self.part4, f"{self.o.runs} runs × 10 steps started at once"),
            5: (self.part5, f"{self.o.wake_runs:,} runs whose sleep ends at the same moment "
                            f"(due {self.o.wake_after:g} s after the first start)"),
            6: (self.part6, f"restart after SIGKILL to the next new step ({self.o.kill_steps}-step run killed at step 20)"),
            7: (self.part7, f"{self.o.parked:,} parked runs (24 h sleep): server RSS"),
        }
        for part in self.o.parts:
            function, title = parts[part]
            began = time.monotonic()
            stub_cpu = cpu_seconds(self.stub.process.pid)
            print(f"\n== part {part}: {title}", flush=True)
            self.probe(part, tmpfs=part == 3)
            for rep in range(self.o.reps):
                print(f" rep {rep + 1}/{self.o.reps} (load average {os.getloadavg()[0]:.2f})", flush=True)
                for label in systems:
                    try:
                        function(label)
                        if part == 4 and label == "Stepwise" and self.o.extra_concurrency:
                            self.part4(label, concurrency=self.o.extra_concurrency, row="p4x")
                    except Failure as error:
                        self.note(f"part {part}, {label}: {error}")
                    while ODDITIES:
                        self.note(f"part {part}: {ODDITIES.pop(0)}")
            print(f" part {part} took {time.monotonic() - began:.0f} s (the stub used "
                  f"{cpu_seconds(self.stub.process.pid) - stub_cpu:.1f} s of CPU)", flush=True)

    # -- the table -----------------------------------------------------------------------------

    def table(self):
        o = self.o

        def fmt(value, unit):
            if unit == "ms":
                return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"
            if unit == "×":
                return f"{value:.2f}×"
            if unit == "s":
                return f"{value:.3f} s"
            if unit == "MiB":
                return f"{value:.0f} MiB"
            return f"{value:,.0f}"

        rows = [
            ("p1", f"one run of {o.steps:,} sequential http steps: cost per step", "ms", "≥ 3× faster than the peer",
             lambda s, d: s * 3 <= d),
            ("p2", f"per-step cost of the last 100 ÷ first 100 steps of a {o.long_steps:,}-step run", "×", "≤ 1.2×",
             lambda s, d: s <= 1.2),
            ("p3", f"the same as 1 with the store on tmpfs: CPU per step", "ms", "≤ 0.3 ms", lambda s, d: s <= 0.3),
            ("p4", f"{o.runs} runs × 10 steps started at once: steps/s", "", "≥ 10× the peer", lambda s, d: s >= 10 * d),
            ("p4x", f"  the same, Stepwise with --concurrency {o.extra_concurrency}", "", "≥ 10× the peer",
             lambda s, d: s >= 10 * d),
            ("p5", f"{o.wake_runs:,} runs whose sleep ends at the same moment ({o.wake_after:g} s after the first start): "
                   "lag after the due time, p99",
             "ms", "≤ 100 ms", lambda s, d: s <= 100),
            ("p6", "restart after SIGKILL to the next new step", "s", "keep (issue: 0.05 s)", None),
            ("p7", f"{o.parked:,} parked runs: server RSS", "MiB", "keep (issue: 56 MB); 100,000 ≤ 256 MB", None),
        ]
        out = []
        out.append(f"\nStepwise {o.stepwise} vs DBOS Transact {o.dbos_version} (SQLite WAL + synchronous FULL, "
                   f"each step the same loopback GET); medians of {o.reps} interleaved reps [min–max]; ratio = Stepwise / DBOS")
        out.append("")
        out.append("| shape | Stepwise | DBOS (+ same HTTP) | ratio S/D | goal of issue 11 | met |")
        out.append("|---|---|---|---|---|---|")
        for row, title, unit, goal, check in rows:
            values = self.results.get(row, {})
            s = values.get("Stepwise", [])
            d = values.get("DBOS", []) or (self.results.get("p4", {}).get("DBOS", []) if row == "p4x" else [])
            if not s and not d:
                continue

            def cell(series, label):
                if not series:
                    return "—"
                median = statistics.median(series)
                text = f"{fmt(median, unit)} [{fmt(min(series), unit)}–{fmt(max(series), unit)}]"
                if row == "p2":
                    extras = self.extra.get((row, label), [])
                    first = statistics.median(e["first"] for e in extras)
                    last = statistics.median(e["last"] for e in extras)
                    text += f" ({first:.2f} → {last:.2f} ms)"
                return text

            ratio = f"{statistics.median(s) / statistics.median(d):.2f}" if s and d and statistics.median(d) else "—"
            met = "—"
            if check and s and (d or row in ("p2", "p3", "p5")):
                met = "yes" if check(statistics.median(s), statistics.median(d) if d else 0) else "no"
            dbos_cell = cell(d, "DBOS") if row != "p4x" else "(as above)"
            out.append(f"| {title} | {cell(s, 'Stepwise')} | {dbos_cell} | {ratio} | {goal} | {met} |")
        out.append("")
        out.append("Disk probes (before each part, in the store's folder): " + "; ".join(
            f"part {part} ({where}) {appends:,.0f} fsync'd appends/s, {commits:,.0f} SQLite commits/s"
            for part, where, appends, commits in self.probes))
        if self.notes:
            out.append(f"Notes ({len(self.notes)}):")
            out += [f"- {note.splitlines()[0]}" for note in self.notes]
        return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# The peer's virtual environment.

def ensure_venv(venv, version):
    python = os.path.join(venv, "bin", "python")
    check = [python, "-c", "import importlib.metadata as m, sys; sys.exit(m.version('dbos') != sys.argv[1])", version]
    if os.path.exists(python) and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"installing dbos=={version} into {venv} …", flush=True)
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", f"dbos=={version}"], check=True)
    return python


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--stub-server":
        stub_main(int(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stepwise", default=os.path.join(REPO, ".build", "release", "stepwise"), help="stepwise binary")
    parser.add_argument("--parts", default="1,2,3,4,5,6,7", help="comma-separated parts to run (default all)")
    parser.add_argument("--reps", type=int, default=3, help="reps per system and part (default 3)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--steps", type=int, help="steps of parts 1 and 3 (default 1000; quick 100)")
    parser.add_argument("--long-steps", type=int, help="steps of part 2 (default 5000; quick 300)")
    parser.add_argument("--runs", type=int, help="runs of part 4 (default 200; quick 20)")
    parser.add_argument("--wake-runs", type=int, help="runs of part 5 (default 1000; quick 100)")
    parser.add_argument("--wake-after", type=float, help="part 5: the due time, seconds after the first start "
                        "(default 5 s + 5 ms per run: 10 s for 1,000 runs, so that every start is in before it)")
    parser.add_argument("--wake-margin", type=float, default=0.5, help="part 5: warn when the starts end later than this before the due time")
    parser.add_argument("--kill-steps", type=int, default=100, help="steps of part 6's run (default 100)")
    parser.add_argument("--parked", type=int, help="runs of part 7 (default 10000; quick 100)")
    parser.add_argument("--settle", type=float, default=12.0, help="part 7: seconds between the last run parked and the RSS reading")
    parser.add_argument("--concurrency", type=int, help="stepwise serve --concurrency (default: the server's own, 64)")
    parser.add_argument("--extra-concurrency", type=int, default=256, help="part 4 also with this Stepwise concurrency (0: no)")
    parser.add_argument("--step-timeout", type=float, default=0.5, help="seconds allowed per step before a part gives up")
    parser.add_argument("--probe-seconds", type=float, default=1.0, help="duration of each disk probe")
    parser.add_argument("--venv", default=os.path.join(REPO, ".build", "bench-venv"), help="virtual environment for DBOS")
    parser.add_argument("--dbos-version", default="3.4.0", help="version of dbos to install (default 3.4.0)")
    parser.add_argument("--dir", default=None, help="folder for the stores (default: the system's temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders (logs, stores)")
    options = parser.parse_args()
    try:
        options.parts = sorted({int(p) for p in options.parts.split(",") if p.strip()})
    except ValueError:
        parser.error("--parts takes numbers 1-7, comma-separated")
    if not options.parts or not set(options.parts) <= set(range(1, 8)):
        parser.error("--parts takes numbers 1-7")
    quick = options.quick
    defaults = {"steps": (1000, 100), "long_steps": (5000, 300), "runs": (200, 20), "wake_runs": (1000, 100), "parked": (10000, 100)}
    for key, (full, small) in defaults.items():
        if getattr(options, key) is None:
            setattr(options, key, small if quick else full)
    if options.steps < 2 or options.long_steps < 201 or options.kill_steps < 21:
        parser.error("--steps ≥ 2, --long-steps ≥ 201 and --kill-steps ≥ 21")
    options.stepwise = os.path.abspath(options.stepwise)
    if not os.access(options.stepwise, os.X_OK):
        parser.error(f"no executable stepwise at {options.stepwise} (give --stepwise BIN)")
    if quick:
        options.settle = min(options.settle, 3.0)
    if options.wake_after is None:
        options.wake_after = 5.0 + 0.005 * options.wake_runs

    atexit.register(kill_children)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    began = time.monotonic()
    options.python = ensure_venv(os.path.abspath(options.venv), options.dbos_version)
    print(f"stepwise: {options.stepwise}; peer: DBOS {options.dbos_version} ({options.python}); "
          f"{os.cpu_count()} cores; parts {options.parts}, {options.reps} reps" + (" (quick sizes)" if quick else ""), flush=True)
    bench = Bench(options)
    try:
        print(f"stub on {bench.stub.url}; stores under {bench.base}", flush=True)
        bench.run()
        print(bench.table())
        print(f"\ntotal {time.monotonic() - began:.0f} s", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted; partial table:")
        print(bench.table())
        return 130
    finally:
        kill_children()
        bench.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
