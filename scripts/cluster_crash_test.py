#!/usr/bin/env python3
"""Crash-safety test of several `stepwise serve` nodes sharing one PostgreSQL database, nodes
SIGKILLed and restarted at random.

Usage:
    python3 scripts/cluster_crash_test.py PATH/TO/stepwise --postgres URL [--nodes 3] [--runs 300]
                                          [--seed N] [--kills 8] [--deadline 300] [--keep]

URL names a database the test may create others beside (`scripts/postgres_server.sh start`
prints one); the test creates a fresh database, drops it at the end, and reads it with `psql`.

What it does, on 127.0.0.1, reusing the workflows, the counting server and the expected results
of scripts/crash_test.py:

1. writes six workflows: `crash-test` (http, sleep, set, http, sleep, http), `crash-fanout` (a
   `parallel` of a `for_each` with concurrency 3 and a side branch, then a request),
   `cluster-wait` (waits for an event, then a request with its data), `cluster-parent` (invokes
   `crash-test`), `cluster-limited` (a request under `concurrency: {key: cluster, limit: 2}`
   shared by all its runs) and `cluster-call` (an engine-executed `call`), plus `cluster-tick`
   (a schedule every minute); starts N nodes (`--lease 3s`, distinct `--node-id`s) on the database,
   only the first with `--token` (the others, without a token of their own, accept the one it
   stored: every request of the test carries that token, to any node);
2. starts the runs through random nodes (each start repeated with its run id until
   acknowledged); a thread sends each waiting run's event through a random node once the run is
   listed as waiting; meanwhile it SIGKILLs a random node every 0.5-2 s and starts it again,
   at once or after 4 s (then the other nodes must take its work over when its leases end),
   at least `--kills` times, until every run has ended and a minute boundary has passed;
3. checks that every run succeeded with the output computed independently from its input; that
   no journal entry of any run is recorded twice; that the counting server received every
   step's request with the same body; that no more than two `cluster-limited` requests (and no
   more than three iterations of one fan-out) were in flight at once across the nodes; and that
   every minute boundary passed during the test started exactly one `cluster-tick` run.

Reports the kills, the takeover times (from a kill until no message is leased to the dead
process any more) and the requests repeated after kills. The last line is
`cluster crash test: N passed, M failed`; the exit status is 0 when everything passed.
"""

import argparse
import atexit
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_test import (  # noqa: E402
    EXPECTED_STEPS, FANOUT_WORKFLOW, HOST, TOKEN, WORKFLOW, ChildServer, TestFailure, answer_value, canonical, check_binary_and_seed,
    expected_fanout, expected_requests, expected_run, fanout_paths, free_port, request, start_counting_server, tail,
    verify_fanout_concurrency, write_crash_workflows)

LIMIT = 2
CLUSTER_YAML = {
    "cluster-wait": """\
workflow: cluster-wait
env: {COUNTER: "http://@HOST@:@PORT@"}
steps:
  - id: go
    wait_for_event: {event: "go-${{ input.n }}", timeout: 10m}
  - id: after
    http: {method: POST, url: "${{ env.COUNTER }}/step/1", body: {n: "${{ input.n }}", data: "${{ steps.go.data }}"}, expect: {status: [200]}}
output: {data: "${{ steps.go.data }}", value: "${{ steps.after.body.value }}"}
""",
    "cluster-parent": """\
workflow: cluster-parent
steps:
  - id: child
    invoke: {workflow: crash-test, input: {n: "${{ input.n }}"}}
output: {status: "${{ steps.child.status }}", output: "${{ steps.child.output }}"}
""",
    "cluster-limited": """\
workflow: cluster-limited
concurrency: {key: cluster, limit: 2}
env: {COUNTER: "http://@HOST@:@PORT@"}
steps:
  - id: work
    http: {method: POST, url: "${{ env.COUNTER }}/fan/limited/${{ input.n }}", body: {n: "${{ input.n }}", item: "${{ input.n }}", index: 0}, expect: {status: [200]}}
output: ${{ steps.work.body.value }}
""",
    "cluster-call": """\
workflow: cluster-call
env: {COUNTER: "http://@HOST@:@PORT@"}
steps:
  - id: ask
    call: {method: POST, url: "${{ env.COUNTER }}/step/3", body: {n: "${{ input.n }}", call: true}, timeout: 30s}
output: ${{ steps.ask.body.value }}
""",
    "cluster-tick": """\
workflow: cluster-tick
schedule:
  - cron: "* * * * *"
steps:
  - id: noted
    set: {at: "${{ run.id }}"}
output: ${{ steps.noted.at }}
""",
}
MIX = [(WORKFLOW, 0.36), (FANOUT_WORKFLOW, 0.10), ("cluster-wait", 0.20), ("cluster-parent", 0.10), ("cluster-limited", 0.14),
       ("cluster-call", 0.10)]


class Database:
    """The test's own database on the server of `url`, read with psql."""

    def __init__(self, url, seed):
        self.admin = url
        self.name = f"stepwise_cluster_{seed}_{random.randrange(1 << 30)}"
        parts = urllib.parse.urlsplit(url)
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))
        self.psql_url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name, query=""))
        self.admin_psql = urllib.parse.urlunsplit(parts._replace(query=""))

    def create(self):
        self.run(self.admin_psql, f"CREATE DATABASE {self.name}")

    def drop(self):
        self.run(self.admin_psql, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)", check=False)

    def query(self, sql):
        return [line.split("\t") for line in self.run(self.psql_url, sql).splitlines() if line]

    @staticmethod
    def run(url, sql, check=True):
        done = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                              capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise TestFailure(f"psql failed: {done.stderr.strip()}")
        return done.stdout


def payload_for(workflow, rng):
    n = rng.randrange(1, 1_000_000)
    if workflow == FANOUT_WORKFLOW:
        return {"n": n, "items": [rng.randrange(1, 1000) for _ in range(rng.randint(3, 5))]}
    return {"n": n}


def expected_output(workflow, run_id, payload):
    n = payload["n"]
    if workflow == WORKFLOW:
        return expected_run(n)[1]
    if workflow == FANOUT_WORKFLOW:
        return expected_fanout(run_id, n, payload["items"])[1]
    if workflow == "cluster-wait":
        data = {"n": n}
        return {"data": data, "value": answer_value(1, {"n": n, "data": data})}
    if workflow == "cluster-parent":
        return {"status": "succeeded", "output": expected_run(n)[1]}
    if workflow == "cluster-limited":
        return answer_value("fan", {"n": n, "item": n, "index": 0})
    return answer_value(3, {"n": n, "call": True})


def alive_nodes(nodes):
    return [node for node in nodes if node.alive()]


def start_run(nodes, rng, run_id, workflow, payload, deadline):
    """Starts a run through a random live node, repeating the start until one acknowledges it."""
    while time.monotonic() < deadline:
        live = alive_nodes(nodes)
        if not live:
            time.sleep(0.05)
            continue
        try:
            status, body = request("POST", f"{rng.choice(live).base}/workflows/{workflow}", payload,
                                   headers={"Upstash-Workflow-RunId": run_id})
        except OSError:
            time.sleep(0.05)
            continue
        if status == 200 and body.get("workflowRunId") == run_id:
            return None
        return f"starting {run_id} answered {status}: {body}"
    return f"{run_id} was never acknowledged before the deadline"


class Notifier(threading.Thread):
    """Sends each waiting run's event through a random live node once the run is listed waiting."""

    def __init__(self, nodes, waits, seed, deadline):
        super().__init__(daemon=True)
        self.nodes, self.pending, self.deadline = nodes, dict(waits), deadline
        self.rng = random.Random(seed)
        self.sent = 0
        self.stop = threading.Event()

    def run(self):
        while self.pending and not self.stop.is_set() and time.monotonic() < self.deadline:
            for run_id, n in list(self.pending.items()):
                live = alive_nodes(self.nodes)
                if not live:
                    break
                try:
                    status, waiting = request("GET", f"{self.rng.choice(live).base}/v2/waiters/go-{n}", timeout=5.0)
                    if status != 200 or not any(w.get("workflowRunId") == run_id for w in waiting):
                        status, run = request("GET", f"{self.rng.choice(live).base}/api/runs/{run_id}", timeout=5.0)
                        if status == 200 and run.get("status") in ("succeeded", "failed", "canceled"):
                            del self.pending[run_id]
                        continue
                    request("POST", f"{self.rng.choice(live).base}/v2/notify/go-{n}", {"n": n}, timeout=5.0)
                    self.sent += 1
                except OSError:
                    continue
            time.sleep(0.1)


class Killer:
    """SIGKILLs nodes and measures how long the dead process's leases keep its work."""

    def __init__(self, nodes, database, rng):
        self.nodes, self.database, self.rng = nodes, database, rng
        self.kills = 0
        self.delayed = 0
        self.takeovers = []     # seconds from a kill until nothing is leased to the dead process
        self.lock = threading.Lock()
        self.timers = []        # the restarts still to come

    def cancel_restarts(self):
        for timer in self.timers:
            timer.cancel()

    def kill_one(self):
        node = self.rng.choice(alive_nodes(self.nodes) or self.nodes)
        pid = node.process.pid if node.alive() else None
        node.kill()
        self.kills += 1
        killed_at = time.monotonic()
        later = self.rng.random() < 0.5
        if pid is not None:
            threading.Thread(target=self.measure, args=(pid, killed_at), daemon=True).start()
        if later:
            self.delayed += 1
            timer = threading.Timer(4.0, lambda: restart(node))
            self.timers.append(timer)
            timer.start()
        else:
            restart(node)

    def measure(self, pid, killed_at):
        """Polls until no message is leased to the dead process (owner `…/<pid>/…`)."""
        pattern = f"%/{pid}/%"
        while time.monotonic() - killed_at < 60:
            try:
                rows = self.database.query(
                    f"SELECT (SELECT COUNT(*) FROM messages WHERE lease_owner LIKE '{pattern}') "
                    f"+ (SELECT COUNT(*) FROM queue WHERE lease_owner LIKE '{pattern}')")
            except (TestFailure, subprocess.TimeoutExpired):
                rows = None
            if rows and rows[0][0] == "0":
                with self.lock:
                    self.takeovers.append(time.monotonic() - killed_at)
                return
            time.sleep(0.1)


def restart(node):
    try:
        if not node.alive():
            node.start()
    except TestFailure as failure:
        print(f"cluster crash test: restarting {node.name} failed: {failure}", flush=True)


def verify_run(nodes, database, counter, run_id, workflow, payload):
    problems = []
    try:
        status, run = request("GET", f"{nodes[0].base}/api/runs/{run_id}", timeout=10.0)
    except OSError as error:
        return [f"GET /api/runs/{run_id} failed: {error}"]
    if status != 200:
        return [f"GET /api/runs/{run_id} answered {status}: {run}"]
    output = expected_output(workflow, run_id, payload)
    if run.get("status") != "succeeded":
        problems.append(f"status {run.get('status')}: {run.get('error')}")
    elif canonical(run.get("output")) != canonical(output):
        problems.append(f"output {canonical(run.get('output'))}, expected {canonical(output)}")
    if workflow in (WORKFLOW, FANOUT_WORKFLOW):
        expected = dict(EXPECTED_STEPS) if workflow == WORKFLOW else fanout_paths(len(payload["items"]))
        with counter.lock:
            for key, (path, body) in expected_requests(run_id, workflow, payload).items():
                if counter.counts.get(key, 0) == 0:
                    problems.append(f"the counting server never received {key}")
                elif counter.paths.get(key) != {path} or counter.bodies.get(key) != {canonical(body)}:
                    problems.append(f"{key} arrived on {counter.paths.get(key)} with bodies {counter.bodies.get(key)}")
        names = [entry.get("stepName") for entry in journal(database, run_id)]
        for name in expected:
            if names.count(name) != 1:
                problems.append(f"the journal holds {names.count(name)} results of {name}")
    return problems


def journal(database, run_id):
    return [json.loads(row[0]) for row in database.query(f"SELECT entry FROM journal WHERE run_id = '{run_id}' ORDER BY position")]


def duplicated_entries(database):
    """Journal entries recorded twice for one step of one run (any run, children included)."""
    rows = database.query(
        "SELECT run_id, entry::json->>'stepName', COUNT(*) FROM journal WHERE position > 0 "
        "GROUP BY 1, 2 HAVING COUNT(*) > 1")
    return [f"{run} {step} x{count}" for run, step, count in rows]


def limited_concurrency(counter, deaths):
    """The most `cluster-limited` requests in flight at once, a request cut at the first kill after its arrival."""
    spans = []
    for run_id, index, key, arrival, answer in counter.fan:
        if run_id != "limited":
            continue
        end = answer if answer is not None else float("inf")
        death = next((moment for moment in deaths if moment > arrival), None)
        spans.append((arrival, min(end, death) if death is not None else end))
    return max((sum(1 for other in spans if other[0] <= start < other[1]) for start, _ in spans), default=0)


def parse_arguments():
    parser = argparse.ArgumentParser(description="SIGKILL crash test of several stepwise serve nodes on PostgreSQL.")
    parser.add_argument("binary", help="path of the stepwise binary")
    parser.add_argument("--postgres", required=True, help="URL of a PostgreSQL database (scripts/postgres_server.sh start)")
    parser.add_argument("--nodes", type=int, default=3, help="nodes (default 3)")
    parser.add_argument("--runs", type=int, default=300, help="runs in all, of six workflows (default 300)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random schedule (default: random)")
    parser.add_argument("--kills", type=int, default=8, help="least number of SIGKILLs (default 8)")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds until unfinished runs fail the test (default 300)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and database (kept anyway on failure)")
    arguments = parser.parse_args()
    check_binary_and_seed(parser, arguments)
    if arguments.nodes < 2 or arguments.runs < 1 or arguments.kills < 0:
        parser.error("--nodes must be ≥ 2, --runs ≥ 1, --kills ≥ 0")
    return arguments


def main():
    arguments = parse_arguments()
    binary = os.path.abspath(arguments.binary)
    rng = random.Random(arguments.seed)
    print(f"cluster crash test: seed {arguments.seed} (replay with --seed {arguments.seed}), {arguments.nodes} nodes", flush=True)
    folder = tempfile.mkdtemp(prefix="stepwise-cluster-crash-")
    workflows = os.path.join(folder, "workflows")
    os.mkdir(workflows)
    counter, counting = start_counting_server(rng)
    port = str(counting.server_address[1])
    write_crash_workflows(workflows, port)
    for name, text in CLUSTER_YAML.items():
        with open(os.path.join(workflows, f"{name}.yaml"), "w") as file:
            file.write(text.replace("@HOST@", HOST).replace("@PORT@", port))
    database = Database(arguments.postgres, arguments.seed)
    database.create()
    nodes = []
    for index in range(arguments.nodes):
        node_port = free_port()
        # Only the first node is given the token; the others, each in a folder of its own with no
        # token file, accept the one it stored (the token is shared through the database).
        home = os.path.join(folder, f"node-{index + 1}")
        os.mkdir(home)
        nodes.append(ChildServer(f"node-{index + 1}", [
            binary, "serve", "--workflows", workflows, "--store", database.url, "--host", HOST, "--port", str(node_port),
            "--node-id", f"node-{index + 1}", "--lease", "3s", "--retry-delay-scale", "0.01"] + (["--token", TOKEN] if index == 0 else []),
            node_port, os.path.join(folder, f"node-{index + 1}.log"), cwd=home))
        atexit.register(nodes[-1].kill)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    workflows_drawn = rng.choices([name for name, _ in MIX], weights=[weight for _, weight in MIX], k=arguments.runs)
    plan = [(f"wfr_cluster_{arguments.seed}_{index:03d}", workflow, payload_for(workflow, rng))
            for index, workflow in enumerate(workflows_drawn)]
    deadline = time.monotonic() + arguments.deadline
    errors, ok, passed, failed = [], False, 0, 0
    killer = Killer(nodes, database, rng)
    started_at = time.time()
    try:
        for node in nodes:
            node.start()
        notifier = Notifier(nodes, {run_id: payload["n"] for run_id, workflow, payload in plan if workflow == "cluster-wait"},
                            rng.randrange(2**31), deadline)
        notifier.start()
        starter_rng = random.Random(rng.randrange(2**31))

        def start_all():
            for run in plan:
                error = start_run(nodes, starter_rng, *run, deadline)
                if error:
                    errors.append(error)

        starter = threading.Thread(target=start_all, daemon=True)
        starter.start()
        # Until every run ended, a minute boundary passed and enough kills happened.
        first_boundary = (int(started_at) // 60 + 1) * 60
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.5, 2.0))
            done = not starter.is_alive() and all_final(nodes, plan) and time.time() > first_boundary + 8
            if done and killer.kills >= arguments.kills:
                break
            killer.kill_one()
        notifier.stop.set()
        killer.cancel_restarts()
        for node in nodes:
            restart(node)
        time.sleep(0.5)
        ended_at = time.time()
        deaths = sorted(moment for node in nodes for moment in node.deaths)
        for run_id, workflow, payload in plan:
            problems = verify_run(nodes, database, counter, run_id, workflow, payload)
            if problems:
                failed += 1
                print(f"FAILED {run_id} ({workflow}): " + "; ".join(problems), flush=True)
            else:
                passed += 1
        duplicates = duplicated_entries(database)
        errors += [f"a journal entry recorded twice: {entry}" for entry in duplicates]
        peak = limited_concurrency(counter, deaths)
        if peak > LIMIT:
            errors.append(f"{peak} cluster-limited requests were in flight at once (limit {LIMIT})")
        fan_violations, fan_results = [], {}
        fan_report = verify_fanout_concurrency({run_id: (workflow, payload) for run_id, workflow, payload in plan}, counter, deaths,
                                               fan_violations, fan_results)
        errors += [f"{run_id}: {text}" for run_id, text in fan_violations]
        ticks = {int(row[0].rsplit("_", 1)[1]): row[1] for row in database.query(
            "SELECT id, status FROM runs WHERE workflow = 'cluster-tick'")}
        boundaries = [moment for moment in range(first_boundary, int(ended_at) - 2, 60) if moment > started_at + 2]
        errors += [f"the tick of {time.strftime('%H:%M', time.gmtime(moment))} never started a run" for moment in boundaries
                   if moment not in ticks]
        errors += [f"a tick run for {moment}, outside the test's minutes" for moment in ticks
                   if moment % 60 != 0 or not started_at - 61 < moment < ended_at + 1]
        errors += [f"the tick run of {moment} ended {status}" for moment, status in ticks.items() if status != "succeeded"]
        with counter.lock:
            repeated = sum(count - 1 for count in counter.counts.values() if count > 1)
        takeovers = sorted(killer.takeovers)
        print(f"cluster crash test: {killer.kills} kills ({killer.delayed} restarted 4 s later), {notifier.sent} notifies through "
              f"random nodes; {counter.total} requests, {repeated} repeated after kills; journal entries recorded twice: "
              f"{len(duplicates)}", flush=True)
        if takeovers:
            print(f"cluster crash test: takeover after a kill (no message leased to the dead process any more): median "
                  f"{statistics.median(takeovers):.2f} s, max {takeovers[-1]:.2f} s over {len(takeovers)} kills", flush=True)
        print(f"cluster crash test: cluster-limited peak {peak} in flight (limit {LIMIT}); fan-outs peak {fan_report['most']} "
              f"(limit 3); {len(boundaries)} minute tick(s) expected, {len(ticks)} tick run(s) started", flush=True)
        for error in errors:
            print(f"ERROR {error}", flush=True)
        ok = failed == 0 and not errors
    except TestFailure as failure:
        print(f"cluster crash test: {failure}", flush=True)
        for node in nodes:
            print(tail(node.log_path), end="")
    finally:
        killer.cancel_restarts()
        for node in nodes:
            node.kill()
        counting.shutdown()
    print(f"cluster crash test: {passed} passed, {failed + (0 if ok or failed else len(plan) - passed)} failed", flush=True)
    if ok and not arguments.keep:
        shutil.rmtree(folder, ignore_errors=True)
        database.drop()
    else:
        print(f"cluster crash test: logs kept in {folder}, database {database.name}", flush=True)
    return 0 if ok else 1


def all_final(nodes, plan):
    """Whether every run of `plan` has ended (False while no node can be asked)."""
    live = alive_nodes(nodes)
    if not live:
        return False
    for run_id, _, _ in plan:
        try:
            status, run = request("GET", f"{live[0].base}/api/runs/{run_id}", timeout=5.0)
        except OSError:
            return False
        if status != 200 or run.get("status") not in ("succeeded", "failed", "canceled"):
            return False
    return True


if __name__ == "__main__":
    sys.exit(main())
