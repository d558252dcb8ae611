//! The Debian 12 test disk image (scripts/make-test-debian-image.sh, built and
//! cached by scripts/test-deps.sh) boots under qemu (TCG, OVMF) from its own
//! ESP: GRUB finds the root by UUID, the kernel prints its command line on
//! ttyS0, systemd brings the system up to a login prompt on the serial
//! console. The image is booted with snapshot=on: the cached file never
//! changes. A missing image fails the test and names the setup script.

use crate::harness;
use crate::qemu::{self, BootSpec, Firmware, Media, Vm};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The cached image and its facts (ROOT_UUID=..., KERNEL=...).
pub fn image() -> (PathBuf, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make-test-debian-image.sh");
    let out = harness::tool(&script).arg("--print").run();
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let facts = path.with_extension("facts");
    assert!(
        path.is_file() && facts.is_file(),
        "the Debian 12 test image {} is not built: {}",
        path.display(),
        harness::SETUP
    );
    (path, std::fs::read_to_string(&facts).unwrap())
}

fn fact<'a>(facts: &'a str, key: &str) -> &'a str {
    facts
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in the image facts:\n{facts}"))
}

#[test]
fn the_debian12_image_boots_its_own_kernel_to_a_serial_login_prompt() {
    let (image, facts) = image();
    let uuid = fact(&facts, "ROOT_UUID");
    // A busy 2-core machine: a whole systemd boot under TCG takes minutes.
    let spec = BootSpec::new(&image, Firmware::Uefi, Media::UsbDisk)
        .deadline(Duration::from_secs(900).max(qemu::DEFAULT_DEADLINE));
    let mut vm = Vm::start(&spec).unwrap();
    let cmdline = vm.wait_kernel("the kernel's command line").unwrap();
    let to_kernel = vm.elapsed();
    assert!(cmdline.contains(&format!("root=UUID={uuid}")), "{cmdline}");
    assert!(cmdline.contains("console=ttyS0"), "{cmdline}");
    assert!(
        cmdline.contains(&format!("vmlinuz-{}", fact(&facts, "KERNEL"))),
        "{cmdline}"
    );
    let log = vm
        .wait_for("a login prompt", |l| l.contains(" login:"))
        .unwrap();
    assert!(log.contains("Debian GNU/Linux 12"), "{log}");
    eprintln!(
        "debian12 image: kernel command line after {:.0?}, login prompt after {:.0?}",
        to_kernel,
        vm.elapsed()
    );
}
