//! Tests that need root for more than test hosts: installer ISOs booted in
//! qemu (iso_boot), the qemu lab in its own network namespace (lab_qemu,
//! lab_bad_input, lab_pxe), kickstart %post run in a chroot (post_parity), the Debian 12
//! image booted and configured by aerie (debian_image_boot, debian_vm,
//! debian_firstboot). Slow.
//!
//! A new test file goes here as `mod NAME;` (see tests/README.md).

#[path = "../support/harness.rs"]
mod harness;
#[path = "../support/iso_fixtures.rs"]
mod iso_fixtures;
#[path = "../support/lab_support.rs"]
mod lab_support;
#[path = "../support/qemu.rs"]
mod qemu;
#[path = "../support/render_support.rs"]
mod render_support;

mod debian_firstboot;
mod debian_image_boot;
mod debian_vm;
mod iso_boot;
mod lab_bad_input;
mod lab_image;
mod lab_pxe;
mod lab_qemu;
mod post_parity;
mod pxe_boot;
