#!/usr/bin/env bash
# Runs the README's two set-up commands exactly as written, on a clean clone of the
# committed tree (soundness issue item 12: `cargo run` once stopped on a fresh clone because
# a second binary had been added). The first `sh` block of "## Set up and run" must run the
# main job and exit 0, leaving certificates in its --out folder; the second must be the test
# command that .ci/run runs. Build products are shared with the calling checkout through
# CARGO_TARGET_DIR, so only the clone's sources are fresh.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
section=$(awk '/^## Set up and run/{on=1; next} /^## /{on=0} on' README.md)
mapfile -t commands < <(printf '%s\n' "$section" | awk '/^```sh/{grab=1; next} /^```/{grab=0} grab && NF')
if [ "${#commands[@]}" -ne 2 ]; then
    echo "README: expected 2 commands under '## Set up and run', found ${#commands[@]}" >&2
    exit 1
fi
main_cmd=${commands[0]}
test_cmd=${commands[1]}
if ! grep -qxF "$test_cmd" .ci/run; then
    echo "README's test command '$test_cmd' is not a line of .ci/run" >&2
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$repo" "$tmp/clone"
cd "$tmp/clone"
echo "== README main command, in a clean clone: $main_cmd"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}" bash -c "$main_cmd"
out=$(printf '%s\n' "$main_cmd" | sed -n 's/.*--out \([^ ]*\).*/\1/p')
if [ -z "$out" ] || [ ! -f "$out/summary.json" ]; then
    echo "the README's main command left no summary.json in '${out:-?}'" >&2
    exit 1
fi
echo "README main command: ok ($(ls "$out" | wc -l) files in $out)"
