#!/bin/sh
# Figures for `aerie apply` (issues 5, 15): on N fresh real-sshd test hosts, the floor
# (one OpenSSH session per host writing three 2 kB files, 50 at a time), a first apply
# and a no-op re-apply of the release build (--parallel 50), their ratios to the floor,
# the SSH channels aerie opened per host, and its peak RSS (/usr/bin/time -v); a
# markdown table at the end. Usage: scripts/bench-apply.sh [N ...]   (default: 10 50 200)
# AERIE_BASELINE_BIN=/path/to/other/aerie adds the same rows for another build.
# Needs root, like the tests; tools from scripts/test-deps.sh.
set -eu
cd "$(dirname "$0")/.."
cargo build --quiet --release --bin aerie
export AERIE_BIN="${CARGO_TARGET_DIR:-target}/release/aerie"
export AERIE_BENCH_HOSTS="${*:-10 50 200}"
cargo bench --quiet --bench apply 2>&1 |
    grep -E '^BENCH|panicked|error|assert' | sed -E 's/^BENCH ?//'
