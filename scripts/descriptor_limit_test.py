#!/usr/bin/env python3
"""File-descriptor exhaustion test of `stepwise serve`: under `ulimit -n 64`, clients hold
keep-alive connections until the server accepts no more, then start a run on each. Every start
answered 200 must be a run of its own, stored under the id it was given (run ids once came from
Foundation's UUID, which gives all zeros when no descriptor is left: 42 acknowledged starts
shared one run), and the server must serve again once the connections close. Under `ulimit -n
256` with the default `--max-connections 512`, the server serves fewer connections than its
limit allows, says so, and does not spin on failed accepts while more clients wait.

Usage: python3 scripts/descriptor_limit_test.py path/to/stepwise

A real process on 127.0.0.1 with its descriptor limit lowered. Prints `N passed, N failed`.
"""

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
TOKEN = "descriptor-limit-test-token-0123456789"
LIMIT = 64


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def send(connection, method, path, body=b""):
    connection.sendall(
        f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)


def receive(connection, within=5):
    """The status and body of one answer on `connection`; `None` when none came in time."""
    connection.settimeout(within)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            rest += chunk
        return int(head.split(b" ")[1]), rest[:length].decode(errors="replace")
    except (socket.timeout, ConnectionError):
        return None


def request(port, method, path, body=b""):
    with socket.create_connection((HOST, port), timeout=10) as connection:
        send(connection, method, path, body)
        return receive(connection, within=10)


def limited_to(limit):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def start_server(binary, folder, limit, name):
    """`stepwise serve` under a descriptor limit of `limit`, answering; the process, its port and log file."""
    port = free_port()
    log = open(os.path.join(folder, name), "w")
    server = subprocess.Popen(
        [binary, "serve", "--workflows", os.path.join(folder, "workflows"), "--store", "sqlite:" + os.path.join(folder, name + ".db"),
         "--host", HOST, "--port", str(port), "--token", TOKEN],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=limited_to(limit))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/health"):
                break
        except OSError:
            time.sleep(0.1)
    return server, port, log


def stop(server, log, connections):
    """Closes the clients' `connections`, kills the server and closes its log."""
    for connection in connections:
        connection.close()
    server.kill()
    server.wait()
    log.close()


def cpu_seconds(pid):
    """The CPU time process `pid` has used, user and system."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connections_past_the_limit(binary, folder):
    server, port, log = start_server(binary, folder, 256, "past-the-limit.log")
    connections = []
    try:
        for _ in range(300):
            try:
                connections.append(socket.create_connection((HOST, port), timeout=2))
            except OSError:
                break
        time.sleep(0.5)
        before = cpu_seconds(server.pid)
        time.sleep(3)
        used = cpu_seconds(server.pid) - before
        held = len(connections)
        for connection in connections:
            connection.close()
        connections = []
        assert used < 1.5, f"the server used {used:.1f} s of CPU in 3 s while {held} silent clients waited: a spinning accept loop"
        answer = None
        deadline = time.monotonic() + 30
        while answer is None and time.monotonic() < deadline:
            try:
                answer = request(port, "GET", "/health")
            except OSError:
                time.sleep(0.2)
        assert answer and answer[0] == 200, f"the server did not serve again: {answer}"
        log.flush()
        with open(log.name) as text:
            output = text.read()
        assert "descriptor limit (ulimit -n 256)" in output and "at most 192 connections" in output, f"no warning about the limit: {output[-2000:]}"
        return f"{used:.2f} s of CPU in 3 s with 300 clients against 256 descriptors; the limit said; served again"
    finally:
        stop(server, log, connections)


def starts_under_exhaustion(binary, folder):
    server, port, log = start_server(binary, folder, LIMIT, "serve.log")
    connections = []
    try:
        for _ in range(2 * LIMIT):
            try:
                connection = socket.create_connection((HOST, port), timeout=5)
            except OSError:
                break
            send(connection, "GET", "/health")
            if receive(connection, within=2) is None:
                connection.close()
                break
            connections.append(connection)
        assert len(connections) < 2 * LIMIT, f"{len(connections)} connections held: the limit did not bind"
        acknowledged = []
        for connection in connections:
            send(connection, "POST", "/workflows/hello", b"{}")
            answer = receive(connection)
            if answer and answer[0] == 200:
                acknowledged.append(json.loads(answer[1])["workflowRunId"])
            # A store that cannot open a file for want of descriptors is unavailable for now.
            assert answer is None or answer[0] in (200, 503), f"a start answered {answer[0]}, not 200 or 503: {answer[1]}"
        for connection in connections:
            send(connection, "GET", "/api/runs?limit=5")
            answer = receive(connection)
            assert answer is None or answer[0] in (200, 503), f"a listing answered {answer[0]}, not 200 or 503: {answer[1]}"
        for connection in connections:
            connection.close()
        connections = []
        assert acknowledged, "no start was acknowledged: nothing was tested"
        assert len(set(acknowledged)) == len(acknowledged), \
            f"{len(acknowledged)} acknowledged starts share {len(set(acknowledged))} run ids: {sorted(set(acknowledged))[:3]}"
        time.sleep(1)
        for run_id in acknowledged:
            answer = request(port, "GET", f"/api/runs/{run_id}")
            assert answer and answer[0] == 200, f"acknowledged run {run_id} is not stored: {answer}"
        return f"{len(acknowledged)} starts acknowledged with every descriptor taken, each its own stored run"
    finally:
        stop(server, log, connections)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="stepwise-descriptors-") as folder:
        os.makedirs(os.path.join(folder, "workflows"))
        with open(os.path.join(folder, "workflows", "hello.yaml"), "w") as file:
            file.write("workflow: hello\nsteps:\n  - id: done\n    return: 1\n")
        for name, case in (("starts under descriptor exhaustion", starts_under_exhaustion),
                           ("connections past the descriptor limit", connections_past_the_limit)):
            try:
                print(f"ok   {name}: {case(binary, folder)}")
                passed += 1
            except AssertionError as error:
                print(f"FAIL {name}: {error}")
                failed += 1
    print(f"descriptor limit test: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
