#!/usr/bin/env python3
"""The peer's side of scripts/bench_peer.py: DBOS Transact for Python behind a small HTTP API.

Run by bench_peer.py with the Python of the virtual environment it creates (`pip install dbos`),
never by hand in normal use:

    .build/bench-venv/bin/python scripts/bench_peer_dbos.py --db PATH --port P --stub http://127.0.0.1:S

It plays the part `stepwise serve` plays on the other side: one process that owns the durable
store (DBOS's SQLite system database at PATH), runs the workflows and answers on 127.0.0.1:P

    GET  /health                      {"status": "ok"} once DBOS is launched
    POST /start/<workflow>            body {"id": ..., "args": [...]}: DBOS.start_workflow under that
                                      workflow id; answers {"workflowRunId": id}
    GET  /statuses                    {"<id>": "SUCCESS" | "PENDING" | "ERROR" | ...} for every workflow

The workflows mirror the YAML ones bench_peer.py gives Stepwise; every step is a DBOS step that
makes the same GET to the loopback stub that Stepwise's `http` step makes and returns the same
kind of result ({status, headers, body}), over a kept-alive connection per thread (Stepwise's HTTP
client keeps a pool of connections too):

    seq(group, run, n)        n sequential steps, GET <stub>/h/<group>/<run>/<i> for i = 1..n
    wake(group, run, due)     DBOS.sleep until `due` (Unix time), then one step GET .../1
    parked(group, run, secs)  DBOS.sleep(secs)

Durability: DBOS's SQLite system database (system_database_url = sqlite:///PATH). DBOS opens it
in SQLite's default rollback-journal mode; to match Stepwise (WAL, synchronous = FULL) every
connection SQLAlchemy opens in this process runs `PRAGMA journal_mode=WAL` and
`PRAGMA synchronous=FULL` first (a `connect` listener on sqlalchemy.engine.Engine, installed
before DBOS creates its engine). The settings in force are printed at start.

A SIGKILL'd process restarted on the same database recovers its PENDING workflows through
DBOS.launch() (executor "local", same application version since the source is the same).
"""

import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa
from sqlalchemy import event


@event.listens_for(sa.engine.Engine, "connect")
def _wal_full(dbapi_connection, _record):
    """Every SQLite connection of this process: WAL and synchronous FULL, as Stepwise's store."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()


from dbos import DBOS, SetWorkflowID  # noqa: E402  (after the listener, before any engine exists)

OPTIONS = None
STUB_HOST = "127.0.0.1"
STUB_PORT = 0
_local = threading.local()


def _connection():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = http.client.HTTPConnection(STUB_HOST, STUB_PORT, timeout=30)
        _local.conn = conn
    return conn


def _get(path):
    """One GET to the stub over this thread's kept-alive connection (reconnects once if it was closed)."""
    for attempt in (1, 2):
        conn = _connection()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            raw = response.read()
            return response.status, dict(response.getheaders()), raw
        except (http.client.HTTPException, OSError):
            conn.close()
            _local.conn = None
            if attempt == 2:
                raise


@DBOS.step()
def http_get(path: str) -> dict:
    status, headers, raw = _get(path)
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode(errors="replace")
    return {"status": status, "headers": headers, "body": body}


@DBOS.workflow()
def seq(group: str, run: str, n: int) -> int:
    for i in range(1, n + 1):
        http_get(f"/h/{group}/{run}/{i}")
    return n


@DBOS.workflow()
def wake(group: str, run: str, due: float) -> int:
    DBOS.sleep(max(0.0, due - time.time()))
    http_get(f"/h/{group}/{run}/1")
    return 1


@DBOS.workflow()
def parked(group: str, run: str, seconds: float) -> int:
    DBOS.sleep(seconds)
    return 0


WORKFLOWS = {"seq": seq, "wake": wake, "parked": parked}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"status": "ok"})
        if self.path == "/statuses":
            workflows = DBOS.list_workflows(load_input=False, load_output=False)
            return self.reply(200, {w.workflow_id: w.status for w in workflows})
        return self.reply(404, {"error": f"no route {self.path}"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        name = self.path.rsplit("/", 1)[-1]
        if not self.path.startswith("/start/") or name not in WORKFLOWS:
            return self.reply(404, {"error": f"no route {self.path}"})
        try:
            with SetWorkflowID(body["id"]):
                DBOS.start_workflow(WORKFLOWS[name], *body.get("args", []))
        except Exception as error:  # reported to the driver, which counts it as a failed start
            return self.reply(500, {"error": repr(error)})
        return self.reply(200, {"workflowRunId": body["id"]})

    def reply(self, status, value):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main():
    global OPTIONS, STUB_HOST, STUB_PORT
    parser = argparse.ArgumentParser(description="DBOS Transact side of scripts/bench_peer.py")
    parser.add_argument("--db", required=True, help="path of the SQLite system database")
    parser.add_argument("--port", type=int, required=True, help="port of the control API on 127.0.0.1")
    parser.add_argument("--stub", required=True, help="base URL of the loopback HTTP stub")
    parser.add_argument("--log-level", default="WARNING", help="DBOS log level (default WARNING)")
    OPTIONS = parser.parse_args()
    stub = urllib.parse.urlsplit(OPTIONS.stub)
    if stub.hostname not in ("127.0.0.1", "localhost"):
        sys.exit("the stub must be on 127.0.0.1")
    STUB_HOST, STUB_PORT = "127.0.0.1", stub.port

    DBOS(config={
        "name": "stepwise-bench-peer",
        "system_database_url": f"sqlite:///{os.path.abspath(OPTIONS.db)}",
        "log_level": OPTIONS.log_level,
    })
    DBOS.launch()
    from dbos import _dbos
    with _dbos._dbos_global_instance._sys_db.engine.connect() as conn:  # DBOS's own engine
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    from importlib.metadata import version
    print(f"bench_peer_dbos: DBOS {version('dbos')} launched, pid {os.getpid()}, "
          f"SQLite journal_mode={mode} synchronous={sync} (2 = FULL)", flush=True)
    server = Server(("127.0.0.1", OPTIONS.port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
