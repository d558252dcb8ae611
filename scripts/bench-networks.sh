#!/bin/sh
# Figures for `aerie networks` (issue 13): on the test bed's real OpenStack, the
# example site's 2 instances networks and generated sites of N networks (default
# 10 50): wall time and openstack commands of the first run (creating) and of a
# no-op re-run, and the HTTP requests per kind of openstack command; a markdown
# table at the end. Usage: scripts/bench-networks.sh [N ...]
# Needs root and the OpenStack venv, like the cloud tests (scripts/test-deps.sh).
set -eu
cd "$(dirname "$0")/.."
export AERIE_BENCH_NETWORKS="${*:-10 50}"
# The dev profile: aerie's own share of the time is negligible beside the openstack
# CLI's (a Python process per call), and it spares a release build of every crate.
cargo bench --quiet --profile dev --bench networks 2>&1 |
    grep -E '^BENCH|panicked|error|assert' | sed -E 's/^BENCH ?//'
