#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (which Swift's toolchain ships on Linux): builds the
# package in Fuzz/ with `-sanitize=fuzzer` and runs one target over a corpus seeded from the
# example workflows and invalid fixtures (yaml) or the expressions in them (expressions).
# Crashes and timeouts are written to .fuzz-crashes/ by libFuzzer.
#
# usage: scripts/libfuzzer.sh yaml|expressions [libFuzzer options, e.g. -runs=1000000 or -max_total_time=60]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$1"; shift
case "$target" in
    yaml|expressions) ;;
    *) echo "usage: scripts/libfuzzer.sh yaml|expressions [libFuzzer options]" >&2; exit 2 ;;
esac
# lld: gold crashes while reporting a symbol of the instrumented link.
swift build --package-path "$root/Fuzz" --scratch-path "$root/.build-libfuzzer" -c release \
    -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld -Xcc -fsanitize=fuzzer-no-link --product "fuzz-$target" 2>&1 | grep -E "error|Compiling|Build" | tail -3
corpus="$root/.build-libfuzzer/corpus-$target"
mkdir -p "$corpus" "$root/.fuzz-crashes"
if [ "$target" = yaml ]; then
    cp "$root"/workflows/*.yaml "$root"/Tests/StepwiseLanguageTests/Fixtures/invalid/*.yaml "$corpus/"
else
    grep -ho '\${{[^}]*}}' "$root"/workflows/*.yaml | sed 's/^\${{ *//; s/ *}}$//' | sort -u | while read -r expression; do
        printf '%s' "$expression" > "$corpus/$(printf '%s' "$expression" | sha1sum | cut -c1-16)"
    done
fi
# Inputs are judged at 100 ms per KB: -max_len bounds an input's size and -timeout (whole
# seconds) the time it may take at that size; a timeout is kept as an artifact like a crash.
if [ "$target" = yaml ]; then limits=(-max_len=65536 -timeout=7); else limits=(-max_len=4096 -timeout=1); fi
"$root/.build-libfuzzer/release/fuzz-$target" "$corpus" -artifact_prefix="$root/.fuzz-crashes/$target-" \
    "${limits[@]}" -rss_limit_mb=2048 -print_final_stats=1 "$@"
