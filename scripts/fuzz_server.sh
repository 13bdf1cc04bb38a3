#!/usr/bin/env bash
# Fuzzes a real `stepwise serve` with mutated HTTP requests: starts the server in a scratch
# folder on a free loopback port with a token, runs `stepwise-fuzz http` against it, and fails
# when the fuzzer found an unanswered request or the server died.
#
# usage: scripts/fuzz_server.sh BIN_DIR CASES SEED
#   BIN_DIR  the folder holding the built `stepwise` and `stepwise-fuzz`
set -euo pipefail
bin="$(cd "$1" && pwd)"; cases="$2"; seed="$3"
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
token="fuzz-token-$seed"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$scratch/workflows"
cp "$root"/workflows/*.yaml "$scratch/workflows/"
(cd "$scratch" && exec "$bin/stepwise" serve --port "$port" --token "$token" > serve.log 2>&1) &
server=$!
trap 'kill "$server" 2> /dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
    sleep 0.1
done
status=0
(cd "$root" && "$bin/stepwise-fuzz" http --port "$port" --header "Authorization: Bearer $token" --cases "$cases" --seed "$seed" \
    --crash-dir "$root/.fuzz-crashes") || status=$?
if ! kill -0 "$server" 2> /dev/null; then
    echo "stepwise serve died during the fuzz run; its log:"
    tail -20 "$scratch/serve.log"
    exit 1
fi
exit "$status"
