#!/bin/sh
# Figures for issue 17 (a Debian 12 system configured by aerie, under qemu TCG +
# OVMF on this machine): the test image's build time, cold (debootstrap from the
# mirror into an empty cache; --cold, several minutes and ~300 MB of downloads)
# and cached, and from the VM tests (tests/root/debian_vm.rs): first boot to
# converged, to SSH after the reboot converge asked for, to in sync, and apply's
# reboot to SSH. Not a timed test: the figures are printed, nothing is asserted
# on them. Usage: scripts/bench-debian.sh [--cold]   (as root, like the tests)
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--cold" ]; then
    cold=$(mktemp -d /var/tmp/aerie-bench-debian.XXXXXX)
    start=$(date +%s.%N)
    AERIE_TEST_CACHE="$cold" scripts/make-test-debian-image.sh >/dev/null
    end=$(date +%s.%N)
    echo "image build, cold: $(awk "BEGIN{printf \"%.1f\", $end - $start}") s ($(du -sh --apparent-size "$cold"/debian12-*.img | cut -f1) sparse image; $(cat "$cold"/debian12-*.facts | tr '\n' ' '))"
    rm -rf "$cold"
fi
scripts/make-test-debian-image.sh >/dev/null # build once into the real cache if missing
start=$(date +%s.%N)
scripts/make-test-debian-image.sh >/dev/null
end=$(date +%s.%N)
echo "image build, cached: $(awk "BEGIN{printf \"%.1f\", $end - $start}") s"
cargo test --quiet --test root debian_vm -- --nocapture 2>&1 |
    grep -E '^debian12 vm|^kvm_intel|panicked|FAILED|test result' || true
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores; other work slows TCG boots)"
