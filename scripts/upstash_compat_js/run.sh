#!/usr/bin/env bash
# Builds the official Upstash Workflow JS SDK from its sources with this folder's suite, and runs
# the suite against a release build of `stepwise serve` (README.md here).
#     WORKFLOW_JS=… QSTASH_JS=… NEVERTHROW=… scripts/upstash_compat_js/run.sh BINARY [SCENARIO...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="${1:?usage: run.sh STEPWISE_BINARY [SCENARIO...]}"
shift
for name in WORKFLOW_JS QSTASH_JS NEVERTHROW; do
    if [ ! -d "${!name:-}/src" ]; then
        echo "set $name to a checkout of its repository (a folder with src/): see $here/README.md" >&2
        exit 2
    fi
done
jose="${JOSE:-/usr/share/nodejs/jose}"
for tool in node esbuild; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install nodejs esbuild node-jose" >&2; exit 2; }
done
[ -d "$jose" ] || { echo "jose is missing at $jose: apt-get install node-jose (or set JOSE)" >&2; exit 2; }
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
esbuild "$here/suite.ts" --bundle --platform=node --target=node20 --format=cjs --outfile="$build/suite.js" --log-level=warning \
    --alias:@upstash/workflow="$WORKFLOW_JS" --alias:@upstash/qstash="$QSTASH_JS/src/index.ts" \
    --alias:neverthrow="$NEVERTHROW/src/index.ts" --alias:crypto-js="$here/crypto-js-stand-in.js" --alias:jose="$jose" \
    --external:zod
node "$build/suite.js" "$binary" "$@"
