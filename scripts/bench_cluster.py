#!/usr/bin/env python3
"""Throughput of 1, 2 and 3 `stepwise serve` nodes on one PostgreSQL database, beside one node on
SQLite, measured in one run (issue 13's table).

    python3 scripts/bench_cluster.py --stepwise BIN --postgres URL [--runs 200] [--steps 10] [--reps 3]

BIN is a release build of `stepwise`; URL names a database on a PostgreSQL server the script may
create databases on (`scripts/postgres_server.sh start` prints one). Every rep of every setup
starts fresh nodes on a fresh store (a new SQLite file, or a new database), runs one warm-up run
per node, then starts `--runs` runs of `--steps` sequential http steps at once (16 client threads,
the starts spread over the nodes in turn) and measures steps/s = runs × steps / (arrival of the
last step's request at the loopback stub - the first start). The setups alternate within each rep
(SQLite, PostgreSQL ×1, ×2, ×3, then again). The table gives the median with [min-max] over the
reps and the ratio to one PostgreSQL node. Every process (nodes, PostgreSQL, the stub, this
script) shares the machine's cores. Uses the stub and helpers of scripts/bench_peer.py.
"""

import argparse
import atexit
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_peer import (  # noqa: E402
    HOST, TOKEN, Failure, Stub, call, http_step, kill_children, spawn, stepwise_yaml, tail, wait_health, free_port)
import concurrent.futures  # noqa: E402


def psql(url, sql):
    parts = urllib.parse.urlsplit(url)
    done = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", urllib.parse.urlunsplit(parts._replace(query="")),
                           "-c", sql], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise Failure(f"psql: {done.stderr.strip()}")


class Setup:
    """One configuration: `nodes` nodes on a fresh store of `kind` ('sqlite' or 'postgres')."""

    def __init__(self, kind, nodes, options, folder, stub, sequence):
        self.kind, self.count, self.o, self.stub = kind, nodes, options, stub
        self.label = "SQLite, 1 node" if kind == "sqlite" else f"PostgreSQL, {nodes} node{'s' if nodes > 1 else ''}"
        self.folder = os.path.join(folder, f"{kind}-{nodes}-{sequence}")
        self.workflows = os.path.join(self.folder, "workflows")
        os.makedirs(self.workflows)
        steps = []
        for index in range(1, options.steps + 1):
            steps += http_step(f"s{index}", index)
        with open(os.path.join(self.workflows, "seq.yaml"), "w") as file:
            file.write(stepwise_yaml("seq", stub.url, steps))
        self.database = f"stepwise_bench_{os.getpid()}_{sequence}"
        self.processes, self.ports = [], []

    def store(self):
        if self.kind == "sqlite":
            return f"sqlite:{os.path.join(self.folder, 'stepwise.db')}"
        parts = urllib.parse.urlsplit(self.o.postgres)
        return urllib.parse.urlunsplit(parts._replace(path="/" + self.database))

    def start(self):
        if self.kind == "postgres":
            psql(self.o.postgres, f"CREATE DATABASE {self.database}")
        for index in range(self.count):
            port = free_port()
            log = os.path.join(self.folder, f"node-{index + 1}.log")
            process = spawn([self.o.stepwise, "serve", "--workflows", self.workflows, "--store", self.store(), "--host", HOST,
                             "--port", str(port), "--token", TOKEN, "--node-id", f"node-{index + 1}",
                             "--concurrency", str(self.o.concurrency)], log, cwd=self.folder)
            wait_health(process, port, f"{self.label} node {index + 1}", log)
            self.processes.append(process)
            self.ports.append(port)

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self.kind == "postgres":
            psql(self.o.postgres, f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")

    def start_run(self, group, index):
        port = self.ports[index % len(self.ports)]
        status, answer = call(port, "POST", "/workflows/seq", {"group": group, "run": f"r{index}"},
                              headers={"Upstash-Workflow-RunId": f"{group}.r{index}"})
        if status != 200:
            raise Failure(f"{self.label}: POST /workflows/seq answered {status}: {answer}")

    def measure(self, rep):
        """steps/s of `runs` runs × `steps` steps started at once."""
        warm = f"warm-{self.kind}-{self.count}-{rep}"
        for index in range(self.count):
            call(self.ports[index], "POST", "/workflows/seq", {"group": warm, "run": f"w{index}"},
                 headers={"Upstash-Workflow-RunId": f"{warm}.w{index}"})
        if self.stub.wait(warm, self.count * self.o.steps, 120) is None:
            raise Failure(f"{self.label}: the warm-up runs did not finish; log:\n{tail(os.path.join(self.folder, 'node-1.log'))}")
        group = f"bench-{self.kind}-{self.count}-{rep}"
        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda index: self.start_run(group, index), range(self.o.runs)))
        total = self.o.runs * self.o.steps
        end = self.stub.wait(group, total, 600)
        if end is None:
            raise Failure(f"{self.label}: only {self.stub.count(group)} of {total} steps were requested in time")
        self.stub.drop(group)
        self.stub.drop(warm)
        return total / (end - t0), end - t0


def main():
    parser = argparse.ArgumentParser(description="Steps/s of 1, 2 and 3 nodes on PostgreSQL beside SQLite, in one run.")
    parser.add_argument("--stepwise", default=".build/release/stepwise", help="a release build of stepwise")
    parser.add_argument("--postgres", required=True, help="URL of a PostgreSQL database (scripts/postgres_server.sh start)")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--nodes", default="1,2,3", help="PostgreSQL node counts (default 1,2,3)")
    parser.add_argument("--concurrency", type=int, default=16, help="each node's --concurrency (default 16, as the session-19 table was measured: a PostgreSQL node has 16 connections)")
    options = parser.parse_args()
    options.stepwise = os.path.abspath(options.stepwise)
    atexit.register(kill_children)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    folder = tempfile.mkdtemp(prefix="stepwise-bench-cluster-")
    stub = Stub(folder)
    plans = [("sqlite", 1)] + [("postgres", int(count)) for count in options.nodes.split(",")]
    results = {plan: [] for plan in plans}
    print(f"bench_cluster: {options.runs} runs × {options.steps} http steps started at once, {options.reps} reps, "
          f"{os.cpu_count()} cores, binary {options.stepwise}", flush=True)
    sequence = 0
    for rep in range(1, options.reps + 1):
        for kind, count in plans:
            sequence += 1
            setup = Setup(kind, count, options, folder, stub, sequence)
            try:
                setup.start()
                rate, seconds = setup.measure(rep)
            finally:
                setup.stop()
            results[(kind, count)].append(rate)
            print(f"  rep {rep} {setup.label:22} {rate:8.1f} steps/s ({options.runs * options.steps} steps in {seconds:.2f} s)",
                  flush=True)
    one = statistics.median(results[("postgres", 1)]) if ("postgres", 1) in results else None
    print("\n| setup | steps/s, median [min-max] | ÷ PostgreSQL, 1 node |\n|---|---|---|")
    for kind, count in plans:
        rates = results[(kind, count)]
        label = "SQLite, 1 node" if kind == "sqlite" else f"PostgreSQL, {count} node{'s' if count > 1 else ''}"
        median = statistics.median(rates)
        ratio = f"{median / one:.2f}×" if one else "-"
        print(f"| {label} | {median:.0f} [{min(rates):.0f}-{max(rates):.0f}] | {ratio} |")
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as failure:
        print(f"bench_cluster: {failure}", file=sys.stderr)
        sys.exit(1)
