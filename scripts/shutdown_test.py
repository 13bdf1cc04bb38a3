#!/usr/bin/env python3
"""Signal test of `stepwise serve` and `stepwise runner`. SIGTERM: a stopping node ends its change
feeds, lets a step in flight finish within `--shutdown-timeout`, leaves one that would not, and a
restart on the same host delivers the left step again at once (long before its 60 s lease ends);
`stepwise logs --follow` outlives the restart and ends with the run; with `--drain-delay`, `/ready`
answers 503 for that long while the node still serves, then it exits. SIGHUP: `serve` reads its
workflows folder again, serving what was added or changed and refusing a folder with errors.

Usage: python3 scripts/shutdown_test.py path/to/stepwise

Real processes on 127.0.0.1: the binary, and a stub HTTP server in this process whose answers
each case sets (a delay, or a hang until the case ends). Prints `N passed, N failed`.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
TOKEN = "shutdown-test-token-0123456789"
WORKFLOWS = {
    "waiter.yaml": """
workflow: waiter
steps:
  - id: paid
    wait_for_event: {event: "paid", timeout: 1h}
""",
    "slow.yaml": """
workflow: slow
steps:
  - id: fetch
    http: {url: "http://127.0.0.1:STUB/step", timeout: 120s}
  - id: done
    set: {answer: "${{ steps.fetch.body.n }}"}
output: ${{ steps.done.answer }}
""",
}


class Stub:
    """Answers `GET /step` with `{"n": <count>}` after `delay` seconds; counts the requests."""

    def __init__(self):
        self.delay = 0.0
        self.count = 0
        self.lock = threading.Lock()
        self.released = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with stub.lock:
                    stub.count += 1
                    count, delay = stub.count, stub.delay
                stub.released.wait(delay)
                body = json.dumps({"n": count}).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the cases that stop a node with a step in flight close its request first

            def log_message(self, *arguments):
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def requests(self):
        with self.lock:
            return self.count


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Node:
    """`stepwise serve` on a port of its own; `terminate` sends SIGTERM and times the exit."""

    def __init__(self, binary, folder, port, shutdown_timeout, *options, command="serve"):
        self.port = port
        self.log_path = os.path.join(folder, f"{command}-{port}-{time.monotonic_ns()}.log")
        self.log = open(self.log_path, "w")
        store = ["--store", "sqlite:" + os.path.join(folder, "store.db"), "--token", TOKEN] if command == "serve" else ["--qstash-token", TOKEN]
        self.process = subprocess.Popen(
            [binary, command, "--workflows", os.path.join(folder, "workflows"), *store,
             "--host", HOST, "--port", str(port), "--shutdown-timeout", shutdown_timeout, *options],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request("GET", self.url("/health"))[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError(f"stepwise {command} did not answer on port {port}: {self.output()}")

    def url(self, path):
        return f"http://{HOST}:{self.port}{path}"

    def terminate(self, within):
        """SIGTERM; the seconds until the process exited (failing after `within`) and its status."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running {within} s after SIGTERM: {self.output()}")
        return time.monotonic() - started, status

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as log:
            return log.read()[-3000:]


def request(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers), timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def wait_for(what, probe, within=30):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up after {within} s waiting for {what}")


def start(node, workflow):
    status, answer = request("POST", node.url(f"/workflows/{workflow}"), {})
    assert status == 200, f"starting {workflow}: {status} {answer}"
    return answer["workflowRunId"]


def run_status(node, run_id):
    status, answer = request("GET", node.url(f"/api/runs/{run_id}"))
    assert status == 200, f"reading {run_id}: {status} {answer}"
    return answer


def followed_feed_ends(binary, folder, stub):
    """A client following a run's change feed does not hold a stopping server open."""
    node = Node(binary, folder, free_port(), "30s")
    run_id = start(node, "waiter")
    feed = http.client.HTTPConnection(HOST, node.port, timeout=30)
    feed.request("GET", f"/api/runs/{run_id}/events", headers={"Authorization": f"Bearer {TOKEN}"})
    response = feed.getresponse()
    assert response.status == 200, f"the feed answered {response.status}"
    assert response.readline().startswith(b"event: snapshot"), "the feed starts with the run's snapshot"
    seconds, status = node.terminate(within=20)
    assert status == 0, f"exit status {status}: {node.output()}"
    rest = response.read()
    assert b"event: finished" not in rest, f"the stream ended without claiming the run finished: {rest!r}"
    return f"exited {seconds:.1f} s after SIGTERM with a feed open"


def follower_outlives_a_restart(binary, folder, stub, killed=False):
    """`stepwise logs RUN --follow` keeps following across a SIGTERM (or a SIGKILL, which breaks
    its stream mid-way) and a restart on the same port, and exits 0 once the run has ended, with
    its end printed."""
    port = free_port()
    node = Node(binary, folder, port, "30s")
    run_id = start(node, "waiter")
    follower = subprocess.Popen(
        [binary, "logs", run_id, "--follow", "--server", f"http://{HOST}:{port}", "--token", TOKEN],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        if killed:
            node.kill()
        else:
            node.terminate(within=20)
        time.sleep(1.5)
        assert follower.poll() is None, f"the follower ended with the server (status {follower.poll()}): {follower.communicate()}"
        node = Node(binary, folder, port, "30s")
        status, answer = request("POST", node.url("/v2/notify/paid"), {"ok": True})
        assert status == 200, f"notify: {status} {answer}"
        out, err = follower.communicate(timeout=30)
        assert follower.returncode == 0, f"exit status {follower.returncode}: {out} {err}"
        assert f"run {run_id} of waiter: succeeded" in out, f"the end was printed: {out}"
        assert "trying again" in err, f"the wait for the server was said: {err}"
        return f"followed across the {'SIGKILL' if killed else 'SIGTERM'} and restart, exited 0 with the run's end"
    finally:
        if follower.poll() is None:
            follower.kill()
        node.terminate(within=20)


def follower_outlives_a_kill(binary, folder, stub):
    """As `follower_outlives_a_restart`, the server killed with SIGKILL: the follower's stream
    breaks instead of ending."""
    return follower_outlives_a_restart(binary, folder, stub, killed=True)


def stop_during_step(binary, folder, stub, delay, shutdown_timeout):
    """SIGTERM while a run's step waits `delay` s for the stub; the run, the stub's count before it,
    the seconds until the exit and the node's log."""
    stub.delay, before = delay, stub.requests()
    node = Node(binary, folder, free_port(), shutdown_timeout)
    run_id = start(node, "slow")
    wait_for("the step's request", lambda: stub.requests() > before)
    seconds, status = node.terminate(within=25)
    assert status == 0, f"exit status {status}: {node.output()}"
    stub.delay = 0.0
    return run_id, before, seconds, node.output()


def restarted_run(binary, folder, run_id):
    """The run once it ended on a restarted node, and the seconds from the restart. Within 45 s: a
    step left leased would wait 60 s for its lease to end if the restart did not release it."""
    restarted = time.monotonic()
    node = Node(binary, folder, free_port(), "30s")
    try:
        run = wait_for("the run to end", lambda: (lambda r: r if r["status"] != "running" else None)(run_status(node, run_id)), within=45)
        return run, time.monotonic() - restarted
    finally:
        node.terminate(within=25)


def step_in_flight_finishes(binary, folder, stub):
    """A step answered within the shutdown timeout is committed before the process exits."""
    run_id, before, seconds, log = stop_during_step(binary, folder, stub, 2.0, "30s")
    assert "stopping: 1 delivery(ies) in flight" in log, f"the log says the node is stopping: {log}"
    run, _ = restarted_run(binary, folder, run_id)
    assert run["status"] == "succeeded" and run["output"] == before + 1, f"run: {run}"
    assert stub.requests() == before + 1, f"the step was requested {stub.requests() - before} times; its answer came before the exit"
    return f"exited {seconds:.1f} s after SIGTERM, after the 2 s step; not requested again"


def step_past_timeout_is_left(binary, folder, stub):
    """A step slower than the shutdown timeout is left; a restart delivers it again at once."""
    run_id, before, seconds, log = stop_during_step(binary, folder, stub, 600.0, "2s")
    assert "still in flight" in log, f"the log says what was left: {log}"
    run, took = restarted_run(binary, folder, run_id)
    assert run["status"] == "succeeded" and run["output"] == before + 2, f"run: {run}"
    return f"exited {seconds:.1f} s after SIGTERM with a 2 s timeout; delivered again {took:.1f} s after the restart"


def answer_during(node, path, seconds):
    """The status of `GET path` every 0.1 s for `seconds`, in order (`None`: no connection)."""
    statuses, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            statuses.append(request("GET", node.url(path))[0])
        except OSError:
            statuses.append(None)
        time.sleep(0.1)
    return statuses


def drain_begun(node):
    """Wait for the log to say the drain began: the signal is handled asynchronously, so a check
    sent in the same millisecond as the SIGTERM may still be answered as ready."""
    wait_for("the drain to begin", lambda: "/ready answers 503" in node.output())


def drain_delay_keeps_serving(binary, folder, stub):
    """With `--drain-delay 3s`, `/ready` answers 503 from the SIGTERM on while the node still
    serves (a run started then succeeds), and the process exits once the delay has passed."""
    node = Node(binary, folder, free_port(), "30s", "--drain-delay", "3s")
    assert request("GET", node.url("/ready"))[0] == 200, "ready before the SIGTERM"
    started = time.monotonic()
    node.process.send_signal(signal.SIGTERM)
    drain_begun(node)
    readiness = answer_during(node, "/ready", 1.5)
    assert readiness and all(status == 503 for status in readiness), f"/ready during the drain: {readiness}"
    run_id = start(node, "slow")
    run = wait_for("the run started in the drain to end", lambda: (lambda r: r if r["status"] != "running" else None)(run_status(node, run_id)))
    assert run["status"] == "succeeded", f"run started in the drain: {run}"
    status = node.process.wait(timeout=20)
    seconds = time.monotonic() - started
    assert status == 0 and seconds >= 3, f"exit status {status} after {seconds:.1f} s: {node.output()}"
    return f"/ready 503 ({len(readiness)} checks), a run started and finished in the drain; exited {seconds:.1f} s after SIGTERM"


def runner_drains_too(binary, folder, stub):
    """`stepwise runner --drain-delay 2s`: `/ready` 200 while serving, 503 from the SIGTERM on,
    `/health` 200 throughout the drain; the process exits after it."""
    node = Node(binary, folder, free_port(), "30s", "--drain-delay", "2s", command="runner")
    assert request("GET", node.url("/ready"))[0] == 200, "ready before the SIGTERM"
    node.process.send_signal(signal.SIGTERM)
    drain_begun(node)
    readiness, health = answer_during(node, "/ready", 1.0), answer_during(node, "/health", 0.5)
    assert readiness and all(status == 503 for status in readiness), f"/ready during the drain: {readiness}"
    assert health and all(status == 200 for status in health), f"/health during the drain: {health}"
    status = node.process.wait(timeout=20)
    assert status == 0, f"exit status {status}: {node.output()}"
    return f"/ready 503 and /health 200 through the drain; exited {status}"


def reload(node, what):
    """SIGHUP until the log shows a reload: one that comes before the reload's handler is installed
    (beside the listener, so perhaps after `/health` answers) is ignored."""
    def reloaded():
        if "workflows reloaded" in node.output():
            return True
        node.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        return "workflows reloaded" in node.output()
    wait_for(what, reloaded)


def sighup_reloads_the_folder(binary, folder, stub):
    """SIGHUP: a workflow added to the folder is served without a restart, a run started before
    the reload finishes on its version; a folder with an error is refused, the log names it, and
    the workflows loaded before are still served."""
    node = Node(binary, folder, free_port(), "30s")
    waiting = start(node, "waiter")
    assert request("POST", node.url("/workflows/fresh"), {})[0] == 404, "not served before the reload"
    workflows = os.path.join(folder, "workflows")
    with open(os.path.join(workflows, "fresh.yaml"), "w") as file:
        file.write("workflow: fresh\nsteps:\n  - id: hello\n    set: {text: hi}\noutput: ${{ steps.hello.text }}\n")
    reload(node, "the reload to serve fresh")
    fresh = start(node, "fresh")
    run = wait_for("the fresh run to end", lambda: (lambda r: r if r["status"] != "running" else None)(run_status(node, fresh)))
    assert run["status"] == "succeeded" and run["output"] == "hi", f"fresh run: {run}"
    with open(os.path.join(workflows, "broken.yaml"), "w") as file:
        file.write("workflow: broken\nsteps:\n  - id: x\n    sleep: soon\n")
    node.process.send_signal(signal.SIGHUP)
    wait_for("the refused reload in the log", lambda: "workflows not reloaded" in node.output())
    assert "broken.yaml" in node.output(), f"the log names the file with the error: {node.output()}"
    assert request("POST", node.url("/workflows/fresh"), {})[0] == 200, "still served after a refused reload"
    assert node.process.poll() is None, "still running"
    status, answer = request("POST", node.url("/v2/notify/paid"), {})
    assert status == 200, f"notify: {status} {answer}"
    run = wait_for("the run started before the reloads to end", lambda: (lambda r: r if r["status"] != "running" else None)(run_status(node, waiting)))
    assert run["status"] == "succeeded", f"run started before the reloads: {run}"
    os.remove(os.path.join(workflows, "broken.yaml"))
    runner_reloads_too(binary, node, workflows)
    seconds, status = node.terminate(within=30)
    assert status == 0, f"exit status {status}"
    return ("a workflow added served after SIGHUP; a folder with an error refused, the old ones still served; the earlier run "
            "finished; the runner behind it serves a workflow added and registers its schedule after SIGHUP")


def runner_reloads_too(binary, node, workflows):
    """`stepwise runner` behind `node`: a workflow added to its folder is served after SIGHUP, its
    run finishes on the engine, and its schedule is registered."""
    folder = os.path.dirname(workflows)
    runner = Node(binary, folder, free_port(), "30s", "--qstash-url", node.url(""), "--versions", os.path.join(folder, "versions"),
                  command="runner")
    assert request("POST", runner.url("/workflows/later"), {})[0] == 404, "not served by the runner before the reload"
    with open(os.path.join(workflows, "later.yaml"), "w") as file:
        file.write("workflow: later\nschedule: [{cron: '0 3 * * *'}]\nsteps:\n  - id: hello\n    set: {text: later}\n"
                   "output: ${{ steps.hello.text }}\n")
    reload(runner, "the runner's reload")
    assert "added later" in runner.output(), f"the runner's log names what was added: {runner.output()}"
    later = start(runner, "later")
    run = wait_for("the runner's run to end", lambda: (lambda r: r if r["status"] != "running" else None)(run_status(node, later)))
    assert run["status"] == "succeeded" and run["output"] == "later", f"the run through the runner: {run}"
    schedules = lambda: [s for s in request("GET", node.url("/v2/schedules"))[1] if s["scheduleId"].startswith("stepwise-later-0-")]
    wait_for("the runner to register the added schedule", schedules)
    seconds, status = runner.terminate(within=30)
    assert status == 0, f"runner exit status {status}"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    stub = Stub()
    passed = failed = 0
    cases = (followed_feed_ends, follower_outlives_a_restart, follower_outlives_a_kill, step_in_flight_finishes, step_past_timeout_is_left,
             drain_delay_keeps_serving, runner_drains_too, sighup_reloads_the_folder)
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="stepwise-shutdown-") as folder:
            os.makedirs(os.path.join(folder, "workflows"))
            for name, text in WORKFLOWS.items():
                with open(os.path.join(folder, "workflows", name), "w") as file:
                    file.write(text.replace("STUB", str(stub.port)))
            try:
                print(f"ok   {case.__name__}: {case(binary, folder, stub)}", flush=True)
                passed += 1
            except AssertionError as error:
                print(f"FAIL {case.__name__}: {error}", flush=True)
                failed += 1
        stub.released.set()
        stub.released = threading.Event()
    print(f"signal test: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
