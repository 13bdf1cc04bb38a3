#!/usr/bin/env python3
"""Two or more builds of `stepwise serve` side by side, interleaved rep by rep, on one shape.

    python3 scripts/bench_ab.py steps BIN... [--n 2000] [--reps 6] [--dir /dev/shm/stepwise-ab] [--body-bytes N]
    python3 scripts/bench_ab.py throughput BIN... [--runs 200] [--reps 5] [--concurrency N]
    python3 scripts/bench_ab.py wake BIN... [--runs 1000] [--reps 2] [--concurrency N]
    (any shape) --postgres URL: store on PostgreSQL, a fresh database per server, instead of SQLite

Each rep starts a fresh server of each binary in turn (A, B, A, B, ...) on a fresh SQLite store,
against the loopback HTTP stub of scripts/bench_peer.py, and measures:

- steps: one run of N sequential http steps after a 10-step warm-up: wall time per step (first
  request of the run to the arrival of step N), the server's CPU time per step (utime + stime) and
  the bytes it wrote per step (`wchar` of /proc/<pid>/io: WAL frames, checkpoints, sockets), and
  the time to read the run's whole journal from the store file afterwards. The store is on tmpfs
  by default, so the CPU is the engine's; `--dir` puts it on a disk. `--body-bytes` (any shape)
  makes every step's response, and so its journal entry, that large.
- throughput: R runs of 10 http steps started at once from 16 client threads: steps per second.
- wake: R runs sleep until one common moment, then make one request: the lag of each request after
  that moment, p50 and p99 (part 5 of bench_peer.py).

Prints the median and [min-max] per binary. Use it to measure one change against the build before
it; bench_peer.py measures Stepwise against DBOS. Linux only (/proc).
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_peer as peer  # noqa: E402  (the stub, the server wrapper, CPU and percentiles)
import bench_cluster  # noqa: E402  (psql)


def written_bytes(pid):
    with open(f"/proc/{pid}/io") as io:
        for line in io:
            if line.startswith("wchar"):
                return int(line.split()[1])
    return 0


POSTGRES = {"url": None, "count": 0}


def server(binary, folder, stub, concurrency, seq_sizes=()):
    """A started server on a fresh store: SQLite in `folder`, or a new database with `--postgres`
    (dropped when the server stops)."""
    os.makedirs(folder, exist_ok=True)
    store = None
    if POSTGRES["url"]:
        POSTGRES["count"] += 1
        name = f"stepwise_ab_{os.getpid()}_{POSTGRES['count']}"
        bench_cluster.psql(POSTGRES["url"], f"CREATE DATABASE {name}")
        parts = urllib.parse.urlsplit(POSTGRES["url"])
        store = urllib.parse.urlunsplit(parts._replace(path="/" + name))
    system = peer.Stepwise(binary, folder, stub, concurrency, seq_sizes=seq_sizes, store=store)
    if store:
        stop = system.stop

        def stop_and_drop():
            stop()
            bench_cluster.psql(POSTGRES["url"], f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        system.stop = stop_and_drop
    system.start()
    return system


def warm_up(system, stub, group):
    system.start_run("seq", group, "r1", n=10)
    stub.wait(group, 10, 60)
    stub.drop(group)


def steps(binary, folder, stub, options, rep):
    system = server(binary, folder, stub, options.concurrency, seq_sizes=(10, options.n))
    try:
        warm_up(system, stub, f"w{rep}")
        time.sleep(0.3)
        group = f"s{rep}"
        cpu, written, started = peer.cpu_seconds(system.pid), written_bytes(system.pid), time.time()
        system.start_run("seq", group, "r1", n=options.n)
        end = stub.wait(group, options.n, 600)
        if end is None:
            raise peer.Failure(f"{binary}: {options.n} steps not all requested within 600 s")
        cpu, written = peer.cpu_seconds(system.pid) - cpu, written_bytes(system.pid) - written
        stub.drop(group)
        n = options.n
        figures = {"wall ms/step": 1000 * (end - started) / n, "cpu ms/step": 1000 * cpu / n, "KiB written/step": written / n / 1024}
        if not POSTGRES["url"]:
            figures["journal read ms"] = journal_read(system.database, f"{group}.r1")
        return figures
    finally:
        system.stop()


def journal_read(database, run_id, reps=5):
    """Milliseconds to read a run's whole journal from the store file (median of `reps`, each on a
    new connection, so from the OS's page cache and never SQLite's): how the layout serves a
    replay from the start."""
    times = []
    for _ in range(reps):
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            started = time.perf_counter()
            rows = connection.execute("SELECT entry FROM journal WHERE run_id = ? ORDER BY position", (run_id,)).fetchall()
            times.append(1000 * (time.perf_counter() - started))
        finally:
            connection.close()
        if not rows:
            raise peer.Failure(f"run {run_id} has no journal in {database}")
    return statistics.median(times)


def throughput(binary, folder, stub, options, rep):
    system = server(binary, folder, stub, options.concurrency, seq_sizes=(10,))
    try:
        warm_up(system, stub, f"w{rep}")
        group = f"t{rep}"
        started = time.time()
        ids, errors = system.run_many("seq", group, options.runs, n=10)
        if errors:
            raise peer.Failure(f"{binary}: {len(errors)} starts failed: {errors[:3]}")
        end = stub.wait(group, options.runs * 10, 300)
        if end is None:
            raise peer.Failure(f"{binary}: {options.runs} × 10 steps not all requested within 300 s")
        stub.drop(group)
        return {"steps/s": options.runs * 10 / (end - started)}
    finally:
        system.stop()


def wake(binary, folder, stub, options, rep):
    system = server(binary, folder, stub, options.concurrency)
    try:
        group = f"k{rep}"
        due = time.time() + 5 + 0.005 * options.runs
        ids, errors = system.run_many("wake", group, options.runs, due=due)
        if errors:
            raise peer.Failure(f"{binary}: {len(errors)} starts failed: {errors[:3]}")
        if stub.wait(group, len(ids), max(0, due - time.time()) + 120) is None:
            raise peer.Failure(f"{binary}: only {stub.count(group)} of {len(ids)} runs woke")
        firsts = {}
        for run, _, moment in stub.dump(group):
            firsts.setdefault(run, moment)
        lags = [1000 * (moment - due) for moment in firsts.values()]
        stub.drop(group)
        return {"p50 ms": peer.percentile(lags, 0.5), "p99 ms": peer.percentile(lags, 0.99)}
    finally:
        system.stop()


SHAPES = {"steps": steps, "throughput": throughput, "wake": wake}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("binaries", nargs="+", help="stepwise binaries (release builds)")
    parser.add_argument("--reps", type=int, help="interleaved reps (steps 6, throughput 5, wake 2)")
    parser.add_argument("--n", type=int, default=2000, help="steps: steps of the run (default 2000)")
    parser.add_argument("--runs", type=int, help="throughput: runs (default 200); wake: runs (default 1000)")
    # Pinned for every binary, so that builds with different defaults compare engines, not defaults.
    parser.add_argument("--concurrency", type=int, default=64, help="stepwise serve --concurrency of every binary (default 64)")
    parser.add_argument("--body-bytes", type=int, help="the size of every step's response body, in every shape (default 11 bytes)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to store on instead of SQLite (a fresh database per server)")
    parser.add_argument("--dir", help="folder for the stores (steps: /dev/shm/stepwise-ab; others: the temporary folder)")
    options = parser.parse_args()
    POSTGRES["url"] = options.postgres
    options.reps = options.reps or {"steps": 6, "throughput": 5, "wake": 2}[options.shape]
    options.runs = options.runs or (1000 if options.shape == "wake" else 200)
    for binary in options.binaries:
        if not os.access(binary, os.X_OK):
            sys.exit(f"error: {binary} is not an executable")
    root = options.dir or ("/dev/shm/stepwise-ab" if options.shape == "steps" else os.path.join("/tmp", "stepwise-ab"))
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    stub = peer.Stub(root)
    if options.body_bytes:
        stub.set_body(options.body_bytes)
    results = {binary: [] for binary in options.binaries}
    try:
        for rep in range(options.reps):
            for index, binary in enumerate(options.binaries):
                folder = os.path.join(root, f"{rep}-{index}")
                figures = SHAPES[options.shape](binary, folder, stub, options, rep)
                shutil.rmtree(folder, ignore_errors=True)
                results[binary].append(figures)
                print(f"  rep {rep + 1} {binary}: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()), flush=True)
        print(f"{options.shape}: medians of {options.reps} interleaved reps [min-max]")
        for binary, reps in results.items():
            summary = []
            for key in reps[0]:
                values = [figures[key] for figures in reps]
                summary.append(f"{key} {statistics.median(values):.3f} [{min(values):.3f}-{max(values):.3f}]")
            print(f"{binary}: " + "; ".join(summary))
    finally:
        peer.kill_children()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
