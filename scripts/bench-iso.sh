#!/usr/bin/env bash
# scripts/bench-iso.sh [RUNS]
#
# Remaster a 1 GiB base ISO (the el9 fixture with PAD_MB=1024) with
# `aerie iso` and compare with `cp` of the same file: same run, same file
# system (the output directory), runs interleaved, median of RUNS (default 5).
# The issue's goal: aerie iso <= 1.3 x cp.
#
# aerie's default grows a kernel copy of the base (copy_file_range) with
# xorriso; `--rewrite` has xorriso write a whole new image. Both fsync the
# result once before renaming it into place, so `cp` followed by an fsync of
# the copy is timed too. The raw xorriso rewrite (one -map) under xorriso's
# default `-stdio_sync on` (an fsync every 16 MiB) and `-stdio_sync off`
# shows where the time of a plain replay goes.
#
# Env: AERIE=path to the aerie binary (default: a release build, built here);
#      BENCH_DIR=where the base and outputs go (default target/bench-iso).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
target=${CARGO_TARGET_DIR:-target}
dir=${BENCH_DIR:-$target/bench-iso}
mkdir -p "$dir"
if [ -z "${AERIE:-}" ]; then
  cargo build --release --quiet
  AERIE=$target/release/aerie
fi
base=$dir/base-1g.iso
if [ ! -f "$base" ]; then
  PAD_MB=1024 fixtures/iso/make-base-el9.sh "$base"
fi
out=$dir/out.iso
printf 'aerie boot menu stand-in\n' > "$dir/menu.cfg"

now() { date +%s.%N; }
# time_it NAME CMD...: appends the seconds of one run to $dir/NAME.times
time_it() {
  local name=$1; shift
  rm -f "$out"
  sync
  local t0 t1
  t0=$(now)
  "$@" >/dev/null 2>&1 || { echo "bench-iso: $name failed: $*" >&2; "$@"; exit 1; }
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >> "$dir/$name.times"
}
cp_sync() { cp "$base" "$out" && sync -d "$out"; }
xorriso_replay() {
  xorriso -indev "$base" -outdev "$out" -stdio_sync "$1" -boot_image any replay \
    -joliet on -map "$dir/menu.cfg" /isolinux/isolinux.cfg -end
}
# What aerie's default does, minus its final fsync (and its probe/menus).
grow_nofsync() {
  cp "$base" "$out" && xorriso -dev "$out" -stdio_sync off -boot_image any replay \
    -joliet on -map "$dir/menu.cfg" /isolinux/isolinux.cfg -end
}
rm -f "$dir"/*.times
# Warm the page cache once (every variant then reads the base from memory).
cat "$base" > /dev/null
for _ in $(seq "$runs"); do
  time_it cp cp "$base" "$out"
  time_it aerie "$AERIE" iso --example lab --no-binary --force --base "$base" -o "$out"
  time_it aerie_rewrite "$AERIE" iso --example lab --no-binary --force --rewrite --base "$base" -o "$out"
  time_it cp_fsync cp_sync
  time_it grow_nofsync grow_nofsync
  time_it xorriso_sync_on xorriso_replay on
  time_it xorriso_sync_off xorriso_replay off
done
rm -f "$out"

median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
cp_med=$(median "$dir/cp.times")
printf '%s, %s runs, base %s MB, output on %s\n' "$(date -u +%FT%TZ)" "$runs" \
  $(( $(stat -c %s "$base") / 1000000 )) "$(df -P "$dir" | awk 'NR==2 { print $1 }')"
printf '%-34s %8s %8s\n' "what" "median s" "x cp"
for name in cp aerie aerie_rewrite cp_fsync grow_nofsync xorriso_sync_on xorriso_sync_off; do
  m=$(median "$dir/$name.times")
  printf '%-34s %8.2f %8.2f\n' "$name" "$m" "$(awk -v m="$m" -v c="$cp_med" 'BEGIN { print m / c }')"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
