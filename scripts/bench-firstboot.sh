#!/bin/sh
# Measure the kolla frontend's first-boot unit on real sshd test hosts
# (kolla-ansible and the cloud's tools stand-ins, named in benches/firstboot.rs):
# for N hosts (default: 3 10) the wait until every node answers, the whole
# first boot (wait, hosts, kolla, networks, register, marker) and a second start.
# Usage: scripts/bench-firstboot.sh [N ...]   Needs root, like the testbed tests.
set -eu
cd "$(dirname "$0")/.."
export AERIE_BENCH_HOSTS="${*:-3 10}"
cargo bench --quiet --bench firstboot 2>&1 | grep -E '^BENCH|panicked|error'
