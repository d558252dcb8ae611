#!/usr/bin/env bash
# scripts/bench-pxe.sh [NODES] [DOWNLOADS]
#
# Figures for `aerie pxe` (issue 14), on this machine:
#  1. `aerie pxe config` for a NODES-node site (default 1300): the dnsmasq
#     config, a boot script per node and every node's kickstart (goal < 0.5 s).
#  2. NODES simulated nodes fetching their iPXE script (/boot/<mac>) and then
#     their kickstart (/ks/<host>.cfg) at once from `aerie pxe serve`:
#     p50/p99/max latency of each request and the server's peak RSS.
#  3. DOWNLOADS (default 50) concurrent downloads of a 1 GiB file of the base
#     ISO (/iso/images/pad.bin, streamed as a byte range of the ISO) with curl
#     to /dev/null, against DOWNLOADS concurrent `cat` of the same bytes to
#     /dev/null: aggregate throughput (goal: within 1.2x of cat), and the CPU
#     time the server spent against all the machine's CPU time in that while
#     (the rest is curl and the kernel's TCP: what no server can save). With
#     AERIE_BEFORE=another aerie binary, that one is measured too, same run.
#
# The server runs with --no-dhcp and --listen 127.0.0.1:PORT (no dnsmasq, no
# root needed); everything is local, over loopback.
# Env: AERIE=path to the aerie binary (default: a release build, built here);
#      AERIE_BEFORE=an older aerie binary to compare (optional);
#      BENCH_DIR=where files go (default target/bench-pxe); PORT (default 18080;
#      the one two after it for AERIE_BEFORE).
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-1300}
downloads=${2:-50}
port=${PORT:-18080}
target=${CARGO_TARGET_DIR:-target}
dir=${BENCH_DIR:-$target/bench-pxe}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -z "${AERIE:-}" ]; then
  cargo build --release --quiet
  AERIE=$target/release/aerie
fi
AERIE=$(realpath "$AERIE")

# Until a server's output file says it is serving (10 s at most; the runs after
# say so if it never did).
wait_serving() {
  for _ in $(seq 1 100); do
    grep -q "serving" "$1" 2>/dev/null && return
    sleep 0.1
  done
}

# A NODES-node site: nodes on 10.44.0.0/16, each with its MAC and address.
site=$dir/site.yaml
python3 - "$nodes" > "$site" <<'PY'
import sys
n = int(sys.argv[1])
print("""site:
  name: bench
  domain: bench.test
  profile: openstack
  distro: rocky9
  root-password-hash: "$6$aerielabsalt$/NJ4vplzY1y4GxW616K7k/6isqDpOzHxSddj/PFPAqg15fsamggY9/8JCFpJKZMVqcC5EK5Jp.a./EYRSSP91/"
networks:
  - name: mgmt
    purpose: management
    cidr: 10.44.0.0/16
    gateway: 10.44.0.1
netboot:
  mode: dhcp
  interface: eth0
  address: 10.44.0.2
nodes:""")
for i in range(n):
    role = "frontend" if i == 0 else "compute"
    a = i + 10
    print(f"""  - hostname: n{i}
    role: {role}
    interfaces:
      - network: mgmt
        mac: "52:54:01:{i >> 8 & 255:02x}:{i & 255:02x}:01"
        address: 10.44.{a >> 8}.{a & 255}""")
PY

echo "== 1. aerie pxe config, $nodes nodes (3 runs; with AERIE_BEFORE, its runs in turn)"
for run in 1 2 3; do
  for bin in "$AERIE" ${AERIE_BEFORE:+"$AERIE_BEFORE"}; do
    rm -rf "$dir/config"
    start=$(date +%s.%N)
    said=$("$bin" pxe config "$site" -o "$dir/config")
    end=$(date +%s.%N)
    label=""
    [ "$bin" = "$AERIE" ] || label="(before) "
    echo "  run $run: ${label}$(echo "$end - $start" | bc) s in all; $said"
  done
done

base=$dir/base-1g.iso
if [ ! -f "$base" ]; then
  PAD_MB=1024 fixtures/iso/make-base-el9.sh "$base" > /dev/null
fi
rm -rf "$dir/pxe"
"$AERIE" pxe serve "$site" --base "$base" --dir "$dir/pxe" --no-dhcp \
  --listen "127.0.0.1:$port" > "$dir/serve.out" 2> "$dir/serve.err" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
wait_serving "$dir/serve.out"

echo "== 2. $nodes nodes fetch script + kickstart at once"
python3 - "$nodes" "$port" <<'PY'
import asyncio, sys, time
n, port = int(sys.argv[1]), int(sys.argv[2])

async def get(path):
    start = time.perf_counter()
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await w.drain()
    data = await r.read()
    w.close()
    head = data.split(b"\r\n", 1)[0]
    if b" 200 " not in head:
        raise SystemExit(f"{path}: {head!r}")
    return time.perf_counter() - start, len(data)

async def node(i):
    mac = f"52-54-01-{i >> 8 & 255:02x}-{i & 255:02x}-01"
    s = await get(f"/boot/{mac}")
    k = await get(f"/ks/n{i}.cfg")
    return s, k

async def main():
    start = time.perf_counter()
    results = await asyncio.gather(*(node(i) for i in range(n)))
    wall = time.perf_counter() - start
    for name, idx in (("script", 0), ("kickstart", 1)):
        lat = sorted(r[idx][0] for r in results)
        size = sum(r[idx][1] for r in results)
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
        print(f"  {name:9}: p50 {p(0.50):7.1f} ms  p99 {p(0.99):7.1f} ms  max {lat[-1]*1000:7.1f} ms  ({size/1e6:.1f} MB)")
    print(f"  all {2*n} requests in {wall:.2f} s")

asyncio.run(main())
PY
echo "  server peak RSS: $(grep VmHWM /proc/$server/status | awk '{print $2/1024 " MiB"}')"

echo "== 3. $downloads concurrent downloads of a 1 GiB file vs cat"
pad=$dir/pad.bin
if [ ! -f "$pad" ]; then
  xorriso -osirrox on -indev "$base" -extract /images/pad.bin "$pad" 2> /dev/null
  chmod u+w "$pad"
fi
url="http://127.0.0.1:$port/iso/images/pad.bin"
cat "$base" > /dev/null; cat "$pad" > /dev/null   # both in the page cache
size=$(stat -c %s "$pad")
total=$(echo "$size * $downloads" | bc)
run_parallel() { # CMD...: $downloads copies at once; prints seconds
  local start end
  start=$(date +%s.%N)
  for _ in $(seq 1 "$downloads"); do "$@" & done
  wait
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
got=$(curl -s -o /dev/null -w '%{size_download}' "$url")
[ "$got" = "$size" ] || { echo "download was $got bytes, not $size" >&2; exit 1; }
fetch() { # URL: one download; its size goes to $dir/sizes
  curl -s -o /dev/null -w '%{size_download}\n' "$1" >> "$dir/sizes"
}
downloads_of() { # URL: $downloads at once; prints seconds, fails unless every one was whole
  local t
  : > "$dir/sizes"
  t=$(run_parallel fetch "$1")
  [ "$(awk '{s += $1} END {print s}' "$dir/sizes")" = "$total" ] ||
    { echo "$1: the downloads were not whole: $(sort "$dir/sizes" | uniq -c | tr '\n' ' ')" >&2; exit 1; }
  echo "$t"
}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; } # clock ticks, user + system
ticks=$(getconf CLK_TCK)
gib() { echo "scale=2; $total / $1 / 1073741824" | bc; }
ratio() { echo "scale=2; $1 / $t_cat" | bc; }
t_cat=$(run_parallel sh -c "cat '$pad' > /dev/null")
echo "  cat:   ${t_cat} s  ($(gib "$t_cat") GiB/s aggregate)"
before=$(cpu $server)
t_http=$(downloads_of "$url")
used=$(echo "scale=2; ($(cpu $server) - $before) / $ticks" | bc)
all=$(echo "scale=2; $t_http * $(nproc)" | bc)
echo "  aerie: ${t_http} s  ($(gib "$t_http") GiB/s aggregate; the server used ${used} s of CPU of the ${all} s the $(nproc) CPUs had)"
echo "  aerie / cat: $(ratio "$t_http")x (goal <= 1.2x)"
echo "  server peak RSS: $(grep VmHWM /proc/$server/status | awk '{print $2/1024 " MiB"}')"

if [ -n "${AERIE_BEFORE:-}" ]; then
  rm -rf "$dir/pxe-before"
  "$AERIE_BEFORE" pxe serve "$site" --base "$base" --dir "$dir/pxe-before" --no-dhcp \
    --listen "127.0.0.1:$((port + 2))" > "$dir/serve-before.out" 2>&1 &
  old=$!
  trap 'kill -TERM $server $old 2>/dev/null || true' EXIT
  wait_serving "$dir/serve-before.out"
  t_old=$(downloads_of "http://127.0.0.1:$((port + 2))/iso/images/pad.bin")
  echo "  before ($AERIE_BEFORE): ${t_old} s  ($(gib "$t_old") GiB/s aggregate); before / cat: $(ratio "$t_old")x"
  echo "  its peak RSS: $(grep VmHWM /proc/$old/status | awk '{print $2/1024 " MiB"}')"
  kill -TERM $old
  wait $old || true
fi
kill -TERM $server
wait $server || true
trap - EXIT
