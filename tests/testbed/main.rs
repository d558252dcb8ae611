//! Tests against real sshd hosts in network namespaces (support/testbed.rs):
//! apply, preflight, register, status, and the testbed's own self-test. Needs
//! root. One process: the once-per-process sweep of stale testbeds
//! (`testbed::initial_cleanup`) runs once for all of them; tests that make
//! leftovers on purpose take `LEFTOVER_TESTS` (testbed_selftest.rs).
//!
//! A new test file goes here as `mod NAME;` (see tests/README.md).

#[path = "../support/apply_support.rs"]
mod apply_support;
#[path = "../support/firstboot_support.rs"]
mod firstboot_support;
#[path = "../support/harness.rs"]
mod harness;
#[path = "../support/kolla_firstboot_support.rs"]
mod kolla_firstboot_support;
#[path = "../support/kolla_standin.rs"]
mod kolla_standin;
#[allow(dead_code)]
#[path = "../support/pty.rs"]
mod pty;
#[path = "../support/register_support.rs"]
mod register_support;
#[path = "../support/render_support.rs"]
mod render_support;
#[path = "../support/testbed.rs"]
mod testbed;

mod apply_converge;
mod apply_failures;
mod apply_hostkey_prompt;
mod apply_hostkeys;
mod apply_interrupt;
mod apply_interrupt_phases;
mod apply_roundtrips;
mod eucalyptus_init;
mod kolla_deploy;
mod kolla_genconfig;
mod preflight_hardware;
mod register_eucalyptus;
mod register_firstboot;
mod register_openstack;
mod status_nodes;
mod testbed_selftest;
