#!/bin/sh
# Figures for `aerie bmc` (issue 14): the release build's `aerie bmc boot --iso`
# on N systems of sushy-tools' Redfish emulator at the default cap (50), and the
# time each fault of the test stand-in adds on one system (median of 3); a
# markdown table. Usage: scripts/bench-bmc.sh [N ...]   (default: 50 200)
# Needs the sushy-tools venv from scripts/test-deps.sh; no root.
set -eu
cd "$(dirname "$0")/.."
cargo build --quiet --release --bin aerie
export AERIE_BIN="${CARGO_TARGET_DIR:-target}/release/aerie"
export AERIE_BENCH_BMC="${*:-50 200}"
cargo bench --quiet --bench bmc 2>&1 |
    grep -E '^BENCH|panicked|error|assert' | sed -E 's/^BENCH ?//'
