#!/usr/bin/env bash
# scripts/bench-cidata.sh [RUNS]
#
# The Debian 12 road's volume: `aerie iso SITE --config-only --cidata --node
# fe1` (render of the site, the frontend's first boot and keys, user-data,
# xorriso writing the volume) for the kolla example switched to debian12, with
# and without the aerie binary on the volume (with it, the binary's glibc
# check and strip dominate). Two binaries side by side in one run, runs
# interleaved, median of RUNS (default 7): AERIE (default: this tree's release
# build) and, when set, AERIE_BEFORE (e.g. a build of main before a change).
# Not a timed test: the figures are printed, nothing is asserted on them.
#
# Env: AERIE, AERIE_BEFORE: aerie binaries; BENCH_DIR (default target/bench-cidata).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
target=${CARGO_TARGET_DIR:-target}
dir=${BENCH_DIR:-$target/bench-cidata}
mkdir -p "$dir"
if [ -z "${AERIE:-}" ]; then
  cargo build --release --quiet
  AERIE=$target/release/aerie
fi
# The kolla example as a Debian 12 site (install-disk is kickstart-only), with
# the golden test's secrets (every node's keys, Kolla's passwords).
cp examples/kolla.yaml "$dir/kolla.yaml"
sed -e '0,/distro: rocky9/s//distro: debian12/' -e '/^    install-disk: sda$/d' \
  "$dir/kolla.yaml" > "$dir/deb.yaml"
install -m 0600 tests/golden/kolla/kolla.secrets.yaml "$dir/deb.secrets.yaml"

now() { date +%s.%N; }
# time_it NAME CMD...: appends the seconds of one run to $dir/NAME.times
time_it() {
  local name=$1; shift
  local t0 t1
  t0=$(now)
  "$@" >/dev/null 2>&1 || { echo "bench-cidata: $name failed: $*" >&2; "$@"; exit 1; }
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >> "$dir/$name.times"
}
volume() { # BINARY EXTRA...
  local bin=$1; shift
  (cd "$dir" && "$bin" iso deb.yaml --config-only --cidata --node fe1 \
    --secrets deb.secrets.yaml --known-hosts known_hosts -o fe1.iso --force "$@")
}
variants=(after)
[ -n "${AERIE_BEFORE:-}" ] && variants=(before after)
bin_of() { if [ "$1" = before ]; then echo "$AERIE_BEFORE"; else echo "$AERIE"; fi; }
rm -f "$dir"/*.times
for _ in $(seq "$runs"); do
  for v in "${variants[@]}"; do
    b=$(bin_of "$v")
    time_it "$v-no-binary" volume "$b" --no-binary
    time_it "$v-with-binary" volume "$b" --binary "$b"
  done
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f (min %.3f, max %.3f)", m, a[1], a[NR] }'; }
echo "aerie iso deb.yaml --config-only --cidata --node fe1 (kolla example as debian12), median of $runs runs, seconds:"
for v in "${variants[@]}"; do
  printf '  %-6s --no-binary: %s\n' "$v" "$(median "$dir/$v-no-binary.times")"
  printf '  %-6s --binary:    %s\n' "$v" "$(median "$dir/$v-with-binary.times")"
done
echo "  volume: $(stat -c %s "$dir/fe1.iso") bytes; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores)"
