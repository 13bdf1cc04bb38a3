#!/usr/bin/env python3
"""Measures the memory `stepwise serve` holds for parked runs.

In a temporary folder, writes a workflow that takes an input and parks on `wait_for_event`
(timeout 1h), starts `stepwise serve` on 127.0.0.1 with a fresh SQLite store, starts N runs whose
inputs are about S bytes of JSON, waits until every run is parked (listed as a waiter of the
event), then reads VmRSS and VmHWM from /proc/<pid>/status. One server per shape, so the figures
do not mix. Prints a table: runs, input size, RSS, peak RSS, RSS per run.

    scripts/parked_memory.py .build-mem/debug/stepwise                  # the default shapes
    scripts/parked_memory.py BIN --shape 100x900000 --shape 10000x1000  # chosen shapes (N x S)

Python 3 standard library only; Linux only (it reads /proc).
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DEFAULT_SHAPES = ["100x900000", "1000x900000", "10000x1000"]
EVENT = "memory-probe"
TOKEN = "parked-memory-probe-token"
WORKFLOW = f"""workflow: parked
description: Takes a big input and parks on an event that never comes
steps:
  - id: size
    set:
      items: ${{{{ size(input.items) }}}}
  - id: decision
    wait_for_event:
      event: {EVENT}
      timeout: 1h
"""


def input_of_size(size, seed):
    """A JSON object of about `size` bytes made of many small objects and strings, like an order list."""
    items = []
    total = 12
    index = 0
    while total < size:
        item = {
            "id": index, "name": f"item number {index} of run {seed}", "sku": f"SKU-{index:06d}",
            "tags": ["red", "large"], "price": round(index * 1.25, 2), "active": True,
            "meta": {"created": "2026-01-01T00:00:00Z", "owner": f"user-{index % 97}"},
        }
        encoded = json.dumps(item, separators=(",", ":"))
        if items and total + len(encoded) + 1 > size:
            break
        items.append(item)
        total += len(encoded) + 1
        index += 1
    return json.dumps({"items": items}, separators=(",", ":")).encode()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port, method, path, body=None, timeout=30):
    """One API call to 127.0.0.1; returns the decoded JSON answer."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    call = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers)
    with urllib.request.urlopen(call, timeout=timeout) as answer:
        return json.loads(answer.read() or b"null")


def memory_of(pid):
    """VmRSS and VmHWM of a process, in bytes."""
    figures = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                figures[key] = int(value.split()[0]) * 1024
    return figures["VmRSS"], figures["VmHWM"]


def wait_until(predicate, deadline, what):
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise TimeoutError(f"gave up waiting for {what}")


def measure(binary, runs, size, deadline, settle):
    folder = tempfile.mkdtemp(prefix="stepwise-parked-")
    server = None
    try:
        workflows = os.path.join(folder, "workflows")
        os.mkdir(workflows)
        with open(os.path.join(workflows, "parked.yaml"), "w") as file:
            file.write(WORKFLOW)
        port = free_port()
        log = open(os.path.join(folder, "serve.log"), "wb")
        server = subprocess.Popen(
            [binary, "serve", "--workflows", workflows, "--store", f"sqlite:{os.path.join(folder, 'db')}",
             "--host", "127.0.0.1", "--port", str(port), "--token", TOKEN],
            stdout=log, stderr=subprocess.STDOUT, cwd=folder)

        def healthy():
            if server.poll() is not None:
                raise RuntimeError(f"stepwise serve exited with {server.returncode}; see {folder}/serve.log")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    return True
            except (urllib.error.URLError, ConnectionError):
                return False

        wait_until(healthy, deadline, "the server to start")
        idle_rss, _ = memory_of(server.pid)
        body = input_of_size(size, 0)

        def start(index):
            request(port, "POST", "/workflows/parked", body)

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            for _ in pool.map(start, range(runs)):
                pass

        def parked():
            return len(request(port, "GET", f"/v2/waiters/{EVENT}", timeout=120)) >= runs

        wait_until(parked, deadline, f"{runs} runs to park")
        time.sleep(settle)
        rss, peak = memory_of(server.pid)
        return {"runs": runs, "input": len(body), "idle": idle_rss, "rss": rss, "peak": peak}
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(folder, ignore_errors=True)


def mib(count):
    return f"{count / 1048576:.1f} MiB"


def main():
    parser = argparse.ArgumentParser(description="RSS of `stepwise serve` holding N parked runs with S-byte inputs.")
    parser.add_argument("binary", help="path to a built stepwise executable")
    parser.add_argument("--shape", action="append", metavar="NxS",
                        help="N runs with S-byte inputs (repeatable; default: " + ", ".join(DEFAULT_SHAPES) + ")")
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per shape (default 900)")
    parser.add_argument("--settle", type=float, default=2, help="seconds to wait after the last run parked")
    options = parser.parse_args()
    shapes = []
    for shape in options.shape or DEFAULT_SHAPES:
        runs, _, size = shape.partition("x")
        if not runs.isdigit() or not size.isdigit() or int(runs) < 1 or not 100 <= int(size) <= 1_000_000:
            parser.error(f"bad shape '{shape}': use NxS, N ≥ 1 runs of S bytes (100 to 1000000)")
        shapes.append((int(runs), int(size)))
    print(f"{'runs':>6} {'input':>10} {'idle RSS':>11} {'RSS':>11} {'peak RSS':>11} {'RSS/run':>11}")
    for runs, size in shapes:
        result = measure(os.path.abspath(options.binary), runs, size, time.monotonic() + options.timeout, options.settle)
        per_run = (result["rss"] - result["idle"]) / runs
        print(f"{runs:>6} {result['input']:>10} {mib(result['idle']):>11} {mib(result['rss']):>11} "
              f"{mib(result['peak']):>11} {per_run / 1024:>7.1f} KiB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
