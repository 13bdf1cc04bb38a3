#!/usr/bin/env python3
"""Crash-safety test of a split deployment: `stepwise serve --no-runner` (the engine) and
`stepwise runner` (the YAML runner speaking the Upstash protocol), either SIGKILLed at random.

Usage:
    python3 scripts/split_crash_test.py PATH/TO/stepwise [--seed N] [--runs 16] [--fanout-runs 6]
                                        [--kills 6] [--deadline 180] [--keep]

What it does, on 127.0.0.1 with the Python standard library only, reusing the workflows, the
counting server and the expected results of scripts/crash_test.py:

1. writes `crash-test` (http, sleep, set, http, sleep, http) and `crash-fanout` (a `parallel` of a
   `for_each` with concurrency 3 and a side branch, then a final request) into a temporary
   folder; starts the counting server, the engine on a fresh SQLite file (`--retry-delay-scale
   0.01`) and the runner with the engine as its QStash (`--qstash-url`, the engine's token);
2. starts half of the runs through the runner's endpoints (`POST /workflows/{name}` with the run
   id in `Upstash-Workflow-RunId`, repeated until acknowledged), the other half from a thread
   during the kills; then repeatedly sleeps 0.2-1.5 s and SIGKILLs the engine or the runner
   (chosen at random) and starts it again on the same port (and database), at least `--kills`
   times and until every run has ended;
3. checks that every run succeeded (GET /api/runs/{id} of the engine) with the output computed
   independently from its input; that the run's log (the engine's `run_log` table) holds each
   expected step result exactly once and nothing else (each plan of the fan-out at most once;
   a sleep in a group has a second plan, due when it ends); and that the counting server
   received every step's request, on the right path, always with the same body. Requests repeated after kills are reported, not failed (a step is run at
   least once; the log records it once).

The last line is `split crash test: N passed, M failed`; the exit status is 0 when every run
passed, 1 otherwise.
"""

import argparse
import atexit
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_test import (  # noqa: E402
    EXPECTED_STEPS, FANOUT_WORKFLOW, HOST, TOKEN, WORKFLOW, ChildServer, TestFailure, canonical, check_binary_and_seed,
    expected_fanout, expected_requests, expected_run, fanout_paths, free_port, request, start_counting_server, tail,
    write_crash_workflows)


def start_run(runner, run_id, workflow, payload, deadline):
    """Starts a run through the runner's endpoint, repeating the start until it is acknowledged."""
    while time.monotonic() < deadline:
        try:
            status, body = request("POST", f"{runner.base}/workflows/{workflow}", payload, headers={"Upstash-Workflow-RunId": run_id})
        except OSError:
            time.sleep(0.05)
            continue
        if status == 200 and body.get("workflowRunId") == run_id:
            return None
        if status in (500, 502):   # the engine was down when the runner published the start
            time.sleep(0.05)
            continue
        return f"starting {run_id} answered {status}: {body}"
    return f"{run_id} was never acknowledged before the deadline"


def logged_steps(database, run_id):
    """(results, plans): the step names of the run's log entries, in log order."""
    connection = sqlite3.connect(database, timeout=10.0)
    try:
        rows = connection.execute("SELECT call_type, body FROM run_log WHERE run_id = ? ORDER BY position", (run_id,)).fetchall()
    finally:
        connection.close()
    results, plans = [], []
    for position, (call_type, body) in enumerate(rows):
        if position == 0 or call_type != "step":
            continue
        step = json.loads(bytes(body))
        if step.get("stepId") == 0 and step.get("targetStep") is not None:
            plans.append((step["stepName"], step["targetStep"]))
        else:
            results.append((step["stepName"], step["stepType"]))
    return results, plans


def verify(engine, database, counter, run_id, workflow, payload):
    """The problems of one run."""
    problems = []
    try:
        status, run = request("GET", f"{engine.base}/api/runs/{run_id}", timeout=10.0)
    except OSError as error:
        return [f"GET /api/runs/{run_id} failed: {error}"]
    if status != 200:
        return [f"GET /api/runs/{run_id} answered {status}: {run}"]
    if workflow == FANOUT_WORKFLOW:
        _, output = expected_fanout(run_id, payload["n"], payload["items"])
        expected = fanout_paths(len(payload["items"]))
    else:
        _, output = expected_run(payload["n"])
        expected = dict(EXPECTED_STEPS)
    if run.get("status") != "succeeded":
        problems.append(f"status {run.get('status')}: {run.get('error')}")
    elif canonical(run.get("output")) != canonical(output):
        problems.append(f"output {canonical(run.get('output'))}, expected {canonical(output)}")
    results, plans = logged_steps(database, run_id)
    names = [name for name, _ in results]
    for name, step_type in expected.items():
        if names.count(name) != 1:
            problems.append(f"the log holds {names.count(name)} results of {name}")
        elif (name, step_type) not in results:
            problems.append(f"the result of {name} is not a {step_type}")
    problems += [f"the log holds an unexpected result {name}" for name in sorted(set(names) - set(expected))]
    # A sleep in a group has two plans (the second one is due when it ends); each plan is logged once.
    problems += [f"{name} has plan {target} {plans.count((name, target))} times" for name, target in sorted(set(plans)) if plans.count((name, target)) > 1]
    if workflow == WORKFLOW and names[:len(EXPECTED_STEPS)] != [name for name, _ in EXPECTED_STEPS]:
        problems.append(f"the results are out of order: {names}")
    with counter.lock:
        for key, (path, body) in expected_requests(run_id, workflow, payload).items():
            if counter.counts.get(key, 0) == 0:
                problems.append(f"the counting server never received {key}")
            elif counter.paths.get(key) != {path} or counter.bodies.get(key) != {canonical(body)}:
                problems.append(f"{key} arrived on {counter.paths.get(key)} with bodies {counter.bodies.get(key)}")
    return problems


def parse_arguments():
    parser = argparse.ArgumentParser(description="SIGKILL crash test of a split deployment (engine + runner).")
    parser.add_argument("binary", help="path of the stepwise binary")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random schedule (default: random)")
    parser.add_argument("--runs", type=int, default=16, help="runs of crash-test (default 16)")
    parser.add_argument("--fanout-runs", type=int, default=6, help="runs of crash-fanout (default 6)")
    parser.add_argument("--kills", type=int, default=6, help="least number of SIGKILLs, of either process (default 6)")
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds until unfinished runs fail the test (default 180)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (kept anyway on failure)")
    arguments = parser.parse_args()
    check_binary_and_seed(parser, arguments)
    if arguments.runs < 0 or arguments.fanout_runs < 0 or arguments.runs + arguments.fanout_runs < 1 or arguments.kills < 0:
        parser.error("--runs and --fanout-runs must be ≥ 0 with at least one run, --kills ≥ 0")
    return arguments


def main():
    arguments = parse_arguments()
    binary = os.path.abspath(arguments.binary)
    rng = random.Random(arguments.seed)
    print(f"split crash test: seed {arguments.seed} (replay with --seed {arguments.seed})", flush=True)
    folder = tempfile.mkdtemp(prefix="stepwise-split-crash-")
    workflows = os.path.join(folder, "workflows")
    os.mkdir(workflows)
    database = os.path.join(folder, "stepwise.db")
    counter, counting = start_counting_server(rng)
    write_crash_workflows(workflows, counting.server_address[1])
    engine_port, runner_port = free_port(), free_port()
    engine = ChildServer("the engine", [
        binary, "serve", "--no-runner", "--store", f"sqlite:{database}", "--host", HOST, "--port", str(engine_port),
        "--token", TOKEN, "--retry-delay-scale", "0.01"], engine_port, os.path.join(folder, "serve.log"))
    runner = ChildServer("the runner", [
        binary, "runner", "--workflows", workflows, "--host", HOST, "--port", str(runner_port),
        "--qstash-url", f"http://{HOST}:{engine_port}", "--qstash-token", TOKEN, "--versions", os.path.join(folder, "versions")],
        runner_port, os.path.join(folder, "runner.log"))
    for process in (engine, runner):
        atexit.register(process.kill)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    inputs = rng.sample(range(1, 1_000_000), arguments.runs + arguments.fanout_runs)
    plan = [(f"wfr_split_{arguments.seed}_{index:03d}", WORKFLOW, {"n": n}) for index, n in enumerate(inputs[:arguments.runs])]
    plan += [(f"wfr_splitfan_{arguments.seed}_{index:03d}", FANOUT_WORKFLOW,
              {"n": n, "items": [rng.randrange(1, 1000) for _ in range(rng.randint(4, 6))]})
             for index, n in enumerate(inputs[arguments.runs:])]
    rng.shuffle(plan)
    deadline = time.monotonic() + arguments.deadline
    errors, kills, ok = [], {"the engine": 0, "the runner": 0}, False
    passed = failed = 0
    try:
        engine.start()
        runner.start()
        early, late = plan[:len(plan) // 2], plan[len(plan) // 2:]
        errors += [error for error in (start_run(runner, *run, deadline) for run in early) if error]
        pauses = [rng.uniform(0.0, 1.0) for _ in late]

        def start_late():
            for run, pause in zip(late, pauses):
                time.sleep(pause)
                error = start_run(runner, *run, deadline)
                if error:
                    errors.append(error)

        starter = threading.Thread(target=start_late, daemon=True)
        starter.start()
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 1.5))
            done = not starter.is_alive() and all_final(engine, plan)
            if done and sum(kills.values()) >= arguments.kills:
                break
            victim = rng.choice([engine, runner])
            victim.kill()
            kills[victim.name] += 1
            victim.start()
        starter.join(timeout=5)
        for run_id, workflow, payload in plan:
            problems = verify(engine, database, counter, run_id, workflow, payload)
            if problems:
                failed += 1
                print(f"FAILED {run_id} ({workflow}): " + "; ".join(problems), flush=True)
            else:
                passed += 1
        with counter.lock:
            repeated = sum(count - 1 for count in counter.counts.values() if count > 1)
        print(f"split crash test: {kills['the engine']} kills of the engine, {kills['the runner']} of the runner; "
              f"{counter.total} requests, {repeated} repeated after kills", flush=True)
        for error in errors:
            print(f"ERROR {error}", flush=True)
        ok = failed == 0 and not errors
    except TestFailure as failure:
        print(f"split crash test: {failure}", flush=True)
        print(tail(engine.log_path) + tail(runner.log_path), end="")
    finally:
        engine.kill()
        runner.kill()
        counting.shutdown()
    print(f"split crash test: {passed} passed, {failed + (0 if ok or failed else len(plan) - passed)} failed", flush=True)
    if ok and not arguments.keep:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"split crash test: logs kept in {folder}", flush=True)
    return 0 if ok else 1


def all_final(engine, plan):
    """Whether every run of `plan` has ended (False while the engine cannot be asked)."""
    for run_id, _, _ in plan:
        try:
            status, run = request("GET", f"{engine.base}/api/runs/{run_id}", timeout=5.0)
        except OSError:
            return False
        if status != 200 or run.get("status") not in ("succeeded", "failed", "canceled"):
            return False
    return True


if __name__ == "__main__":
    sys.exit(main())
