#!/bin/sh
# Figures for `aerie apply` (issue 5): N real sshd test hosts, a first apply and a
# no-op re-apply of the release build, next to the raw lower bound of the same writes
# (`xargs -P50` running `ssh HOST 'cat > FILE'` per file), and aerie's peak RSS
# (/usr/bin/time -v). Usage: scripts/bench-apply.sh [N ...]   (default: 50 200)
# Needs root, like the tests; tools from scripts/test-deps.sh.
set -eu
cd "$(dirname "$0")/.."
cargo build --quiet --release --bin aerie
export AERIE_BIN="${CARGO_TARGET_DIR:-target}/release/aerie"
export AERIE_BENCH_HOSTS="${*:-50 200}"
cargo bench --quiet --bench apply 2>&1 |
    grep -E '^BENCH|panicked|error|assert'
