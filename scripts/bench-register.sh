#!/bin/sh
# Measure `aerie register` against the test bed's real OpenStack (tests/support/cloud.rs):
# the cloud's start-up, then for N fake-driver compute nodes (default: 1 10 50) the first
# run and a no-op rerun: wall time, openstack / nova-manage invocations aerie made, and
# the HTTP requests keystone, nova-api and placement served meanwhile; then `aerie
# status` on those nodes (wall time, openstack invocations: the cloud column).
# Usage: scripts/bench-register.sh [N ...]   Needs root and scripts/test-deps.sh, like
# the cloud tests; one nova-compute process per node (about 100 MB each).
set -eu
cd "$(dirname "$0")/.."
export AERIE_BENCH_NODES="${*:-1 10 50}"
export AERIE_TESTBED_TIMING=1
# The dev profile, as bench-networks.sh: aerie's own share is negligible beside the
# openstack CLI's and nova's, and it spares a release build of every crate.
cargo bench --quiet --profile dev --bench register_cloud 2>&1 | grep -E '^(BENCH|cloud: )|panicked|error'
