#!/bin/sh
# Figures for `aerie lab up --driver qemu --image DISK` (issue 17), under TCG
# on this machine: lab up's own time, first boot to `aerie: converged` and to
# SSH after the reboot converge asked for (tests/root/lab_image.rs), side by
# side, in the same run and one after the other (never two VMs at once), with
# the reference: the same image and cidata volume booted by hand by the test
# support (tests/root/debian_vm.rs, its first boot to converged and to SSH).
# Not a timed test: the figures are printed, nothing is asserted on them.
# Usage: scripts/bench-lab.sh   (as root, like the tests; takes the VM lock)
set -eu
cd "$(dirname "$0")/.."
scripts/make-test-debian-image.sh >/dev/null # build once into the cache if missing
cargo build --quiet --tests
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores; other work slows TCG boots)"
flock /tmp/aerie-vm.lock cargo test --quiet --test root -- --test-threads=1 --nocapture \
    lab_image::an_image_lab debian_vm::a_debian12_vm 2>&1 |
    grep -E '^lab up --image|^debian12 vm:|panicked|FAILED|test result' || true
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
