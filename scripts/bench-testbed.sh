#!/bin/sh
# Measure the test-host harness: bring-up and teardown time for N hosts, memory per
# idle host. Usage: scripts/bench-testbed.sh [N ...]   (default: 10 50 200)
# Prints one "BENCH hosts=N up=..s down=..s ..." line per size, plus the harness's own
# phase timings (AERIE_TESTBED_TIMING). Needs root, like the tests.
set -eu
cd "$(dirname "$0")/.."
export AERIE_BENCH_HOSTS="${*:-10 50 200}"
export AERIE_TESTBED_TIMING=1
cargo bench --quiet --bench testbed 2>&1 | grep -E '^(BENCH|testbed )|panicked|error'
