#!/bin/sh
# Figures of the kolla profile (docs/kolla.md):
#  1. render time of Kolla's inputs: `aerie render --example kolla` (the whole
#     tree, kolla/ included; the passwords exist after the first run), N runs;
#  2. `kolla-ansible genconfig` wall time for the lab-shaped test site (2 real
#     sshd test hosts, as root), from the testbed test that runs it;
#  3. what delivering Kolla's admin-openrc.sh to the frontend costs in
#     `aerie deploy` from the operator's machine, beside the rest of the kolla
#     step and the networks step (benches/kolla_deploy.rs, 2 real sshd test
#     hosts, kolla-ansible a stand-in; $AERIE_BENCH_ROUNDS rounds, default 5).
# Needs scripts/test-deps.sh (the /opt/aerie-test/kolla venv) and root for 2
# and 3. Usage: bench-kolla.sh [N]
set -eu
n=${1:-20}
cd "$(dirname "$0")/.."
cargo build --quiet
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export AERIE_KOLLA_VENV=${AERIE_TEST_KOLLA_VENV:-/opt/aerie-test/kolla}
./target/debug/aerie render --example kolla -o "$dir/warm" >/dev/null 2>&1
start=$(date +%s.%N)
i=0
while [ "$i" -lt "$n" ]; do
  ./target/debug/aerie render --example kolla -o "$dir/out$i" >/dev/null
  i=$((i + 1))
done
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v n="$n" 'BEGIN { printf "render --example kolla: %.3f s per run (%d runs)\n", (e - s) / n, n }'
cargo test --test testbed kolla_genconfig -- --nocapture 2>&1 | grep -E "genconfig: .* wall time|test result"
cargo bench --quiet --profile dev --bench kolla_deploy 2>&1 | grep -E '^BENCH|panicked|error' | sed -E 's/^BENCH ?//'
