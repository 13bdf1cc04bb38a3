#!/usr/bin/env bash
# How soon a node answers again after a PostgreSQL outage: starts a private server, a node on it
# (`serve --no-runner --store-wait 5s`), stops the server for OUTAGE seconds while asking
# `GET /ready` every 0.5 s, starts it again and prints the seconds until `/ready` answers 200.
#   scripts/postgres_recovery.sh BINARY [OUTAGE_SECONDS=60] [DIR=/tmp/stepwise-recovery] [PORT=54340]
set -euo pipefail
binary="$1"; outage="${2:-60}"; dir="${3:-/tmp/stepwise-recovery}"; port="${4:-54340}"
here="$(cd "$(dirname "$0")" && pwd)"
url="$("$here/postgres_server.sh" start "$dir" "$port")"
node_port=$((port + 1))
"$binary" serve --no-runner --port "$node_port" --store "$url" --store-wait 5s > "$dir/serve.log" 2>&1 &
node=$!
trap 'kill $node 2>/dev/null || true; "$here/postgres_server.sh" stop "$dir" >/dev/null 2>&1 || true' EXIT
ready() { curl -s -o /dev/null -m 20 -w "%{http_code}" "http://127.0.0.1:$node_port/ready" || true; }
for _ in $(seq 100); do [ "$(ready)" = 200 ] && break; sleep 0.2; done
"$here/postgres_server.sh" stop "$dir" > /dev/null
end=$(( $(date +%s) + outage ))
while [ "$(date +%s)" -lt "$end" ]; do ready > /dev/null; sleep 0.5; done
"$here/postgres_server.sh" start "$dir" "$port" > /dev/null
back=$(date +%s.%N)
for _ in $(seq 600); do [ "$(ready)" = 200 ] && break; sleep 0.1; done
echo "answered again $(echo "$(date +%s.%N) - $back" | bc) s after the database was back"
