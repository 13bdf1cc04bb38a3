#!/usr/bin/env python3
"""Per-step cost of a YAML run through `stepwise runner` behind `stepwise serve --no-runner`.

Starts the engine and the runner (release builds recommended) on loopback with a fresh store, then
for each N runs a workflow of N sequential `notify` steps (a durable step: the runner calls the
engine's notify API, then publishes the step; one delivery per step carrying the log prefix),
`--repeats` times, timing from the start request to the run's end (the newest run's summary polled
every 5 ms). Prints
the median time per step for each N and the slope between the smallest and largest N, which shows
how the cost grows with the log: the protocol sends the whole log prefix with every delivery.

    python3 scripts/bench_split.py .build-release/release/stepwise [--n 50 200 800] [--repeats 3]
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TOKEN = "bench-split-token"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(method, url, body=None, token=True):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {TOKEN}"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=30) as answer:
        return json.loads(answer.read() or b"null")


def wait_health(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if call("GET", url + "/health", token=False).get("status") == "ok":
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{url} did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--n", type=int, nargs="+", default=[50, 200, 800])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="stepwise-bench-split-")
    workflows = os.path.join(folder, "workflows")
    os.mkdir(workflows)
    for n in args.n:
        steps = "".join(f"  - id: s{i}\n    notify: {{event: bench-nobody}}\n" for i in range(n))
        with open(os.path.join(workflows, f"chain{n}.yaml"), "w") as file:
            file.write(f"workflow: chain{n}\nsteps:\n{steps}")
    engine_port, runner_port = free_port(), free_port()
    engine_url, runner_url = f"http://127.0.0.1:{engine_port}", f"http://127.0.0.1:{runner_port}"
    log = open(os.path.join(folder, "processes.log"), "w")
    processes = [
        subprocess.Popen([args.binary, "serve", "--no-runner", "--port", str(engine_port), "--token", TOKEN,
                          "--store", f"sqlite:{folder}/stepwise.db"], stdout=log, stderr=log),
        subprocess.Popen([args.binary, "runner", "--workflows", workflows, "--port", str(runner_port), "--qstash-url", engine_url,
                          "--qstash-token", TOKEN, "--versions", f"{folder}/versions"], stdout=log, stderr=log),
    ]
    try:
        wait_health(engine_url)
        wait_health(runner_url)
        medians = {}
        for n in args.n:
            times = []
            for _ in range(args.repeats):
                began = time.perf_counter()
                run_id = call("POST", f"{runner_url}/workflows/chain{n}", {}, token=False)["workflowRunId"]
                # The newest run's summary: polling a run's details would read its whole log each time.
                while running(engine_url, run_id):
                    time.sleep(0.005)
                times.append(time.perf_counter() - began)
            medians[n] = statistics.median(times)
            print(f"N = {n:5}: median {medians[n]:.3f} s [{min(times):.3f}–{max(times):.3f}], {1000 * medians[n] / n:.2f} ms per step", flush=True)
        low, high = min(args.n), max(args.n)
        print(f"marginal cost per step between N = {low} and {high}: {1000 * (medians[high] - medians[low]) / (high - low):.2f} ms")
    finally:
        for process in processes:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def running(engine_url, run_id):
    runs = call("GET", f"{engine_url}/api/runs?limit=1")["runs"]
    return not runs or runs[0]["workflowRunId"] != run_id or runs[0]["status"] == "running"


if __name__ == "__main__":
    main()
