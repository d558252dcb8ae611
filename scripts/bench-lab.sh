#!/bin/sh
# Figures for the qemu lab under TCG on this machine, each side by side with
# its reference, in the same run and one after the other (never two labs at
# once). Not timed tests: the figures are printed, nothing is asserted on them.
#
#  image (issue 17): `aerie lab up --driver qemu --image DISK`: lab up's own
#    time, first boot to `aerie: converged` and to SSH after the reboot
#    converge asked for (tests/root/lab_image.rs), against the same image and
#    cidata volume booted by hand by the test support (tests/root/debian_vm.rs).
#  pxe (issue 14): `aerie lab up --boot pxe` (tests/root/lab_pxe.rs): lab up's
#    own time and, from its start, each VM's installer kernel `Command line:`,
#    against the ISO road `aerie lab up --iso` (tests/root/lab_qemu.rs: the
#    installer ISO remastered from the same fixture base, each VM booting its
#    kernel directly) to the same line. Three VMs, 512 MiB, 1 CPU each.
#
# libtest prints a test's name and its output on one line: grep -o.
#
# Usage: scripts/bench-lab.sh [image|pxe|all]   (default all; as root, like
# the tests; takes the VM lock)
set -eu
cd "$(dirname "$0")/.."
what=${1:-all}
case $what in image | pxe | all) ;; *)
    echo "usage: $0 [image|pxe|all]" >&2
    exit 64
    ;;
esac
cargo build --quiet --tests
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores; other work slows TCG boots)"
if [ "$what" != pxe ]; then
    scripts/make-test-debian-image.sh >/dev/null # build once into the cache if missing
    flock /tmp/aerie-vm.lock cargo test --quiet --test root -- --test-threads=1 --nocapture \
        lab_image::an_image_lab debian_vm::a_debian12_vm 2>&1 |
        grep -oE 'lab up --image .*|debian12 vm: .*|panicked.*|FAILED.*|test result.*' || true
fi
if [ "$what" != image ]; then
    flock /tmp/aerie-vm.lock cargo test --quiet --test root -- --test-threads=1 --nocapture \
        lab_qemu::qemu_lab_boots_every_node lab_pxe::pxe_lab_boots_every_node 2>&1 |
        grep -oE 'lab up (--boot pxe )?returned.*|panicked.*|FAILED.*|test result.*' || true
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
