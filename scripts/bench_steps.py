#!/usr/bin/env python3
"""Per-step cost of YAML workflow runs: `stepwise run FILE` on N sequential durable steps.

Each step is `notify` of an event nobody waits for: a durable step (one delivery, one journal
append) that the engine completes at once, needs no network and no timer. The binaries are run
alternately (the order flips every round, ABBA), wall time measured around the whole process.

    python3 scripts/bench_steps.py BEFORE_BIN AFTER_BIN [MORE_BIN...] [--n 100 300 1000] [--repeats 5]

A binary may be given as LABEL=PATH. The first one is the baseline of the ratios. Per-step cost is
the median wall time / N (includes process start and the `run` command's 50 ms journal polling);
`slope` is the least-squares fit of median time against N, i.e. the marginal cost of one step.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def workflow(n: int) -> str:
    lines = ["workflow: bench", "steps:"]
    for i in range(n):
        lines += [f"  - id: s{i}", "    notify: {event: bench-nobody}"]
    return "\n".join(lines) + "\n"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(binary: str, path: str, n: int, check: bool) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one `stepwise run`."""
    cpu = children_cpu()
    start = time.perf_counter()
    if check:
        done = subprocess.run([binary, "run", path], capture_output=True, text=True)
    else:
        done = subprocess.run([binary, "run", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    cpu = children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"{binary} run {path} exited with {done.returncode}")
    if check:
        steps = sum(1 for line in done.stdout.splitlines() if line.startswith("  ✔ s"))
        if steps != n or "✔ succeeded" not in done.stdout:
            sys.exit(f"{binary}: expected {n} steps and success, got {steps}:\n{done.stdout[-500:]}")
    return elapsed, cpu


def slope(xs, ys) -> float:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binaries", nargs="+", help="stepwise binaries, optionally LABEL=PATH; the first is the baseline")
    parser.add_argument("--n", type=int, nargs="+", default=[100, 300, 1000], help="steps per workflow")
    parser.add_argument("--repeats", type=int, default=5, help="runs per binary and N")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs per binary and N (also check the output)")
    args = parser.parse_args()
    if len(args.binaries) < 2:
        parser.error("give at least two binaries")

    named = []
    for i, spec in enumerate(args.binaries):
        label, _, path = spec.rpartition("=") if "=" in spec else (("before", "after")[i] if i < 2 else f"bin{i}", "", spec)
        named.append((label, os.path.abspath(path)))

    times = {(label, n): [] for label, _ in named for n in args.n}
    cpus = {(label, n): [] for label, _ in named for n in args.n}
    with tempfile.TemporaryDirectory(prefix="bench-steps-") as folder:
        files = {}
        for n in args.n:
            files[n] = os.path.join(folder, f"steps-{n}.yaml")
            with open(files[n], "w") as handle:
                handle.write(workflow(n))
        for n in args.n:
            for label, binary in named:
                for _ in range(args.warmup):
                    run_once(binary, files[n], n, check=True)
        for round_ in range(args.repeats):
            for n in args.n:
                order = named if round_ % 2 == 0 else list(reversed(named))
                for label, binary in order:
                    wall, cpu = run_once(binary, files[n], n, check=False)
                    times[(label, n)].append(wall)
                    cpus[(label, n)].append(cpu)
            print(f"round {round_ + 1}/{args.repeats} done, load average {os.getloadavg()[0]:.2f}", file=sys.stderr, flush=True)

    base = named[0][0]
    print(f"{args.repeats} runs per binary and N, interleaved; times in seconds (median [min–max]); per step = median / N")
    for label, _ in named[1:]:
        print(f"\n{'N':>5} | {base + ' median':>22} | {label + ' median':>22} | ms/step {base:>6} | ms/step {label:>6} | ratio {label}/{base} (range of per-round ratios)")
        for n in args.n:
            b, a = times[(base, n)], times[(label, n)]
            mb, ma = statistics.median(b), statistics.median(a)
            pairs = sorted(y / x for x, y in zip(b, a))
            print(
                f"{n:>5} | {mb:8.3f} [{min(b):.3f}–{max(b):.3f}] | {ma:8.3f} [{min(a):.3f}–{max(a):.3f}] | "
                f"{1000 * mb / n:14.3f} | {1000 * ma / n:14.3f} | {ma / mb:.3f} ({pairs[0]:.3f}–{pairs[-1]:.3f})"
            )
        if len(args.n) >= 2:
            sb = slope(args.n, [statistics.median(times[(base, n)]) for n in args.n])
            sa = slope(args.n, [statistics.median(times[(label, n)]) for n in args.n])
            print(f"slope (marginal ms/step): {base} {1000 * sb:.3f}, {label} {1000 * sa:.3f}, ratio {sa / sb:.3f}")
        print("CPU time (user+sys) per step, median / N: " + ", ".join(
            f"N={n}: {1000 * statistics.median(cpus[(base, n)]) / n:.3f} vs {1000 * statistics.median(cpus[(label, n)]) / n:.3f} ms "
            f"(ratio {statistics.median(cpus[(label, n)]) / statistics.median(cpus[(base, n)]):.3f})" for n in args.n))


if __name__ == "__main__":
    main()
