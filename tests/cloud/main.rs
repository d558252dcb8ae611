//! The test bed's real OpenStack (support/cloud.rs; its configs and scripts beside
//! this file): keystone, placement, nova and neutron on real-sshd test hosts. Needs
//! root and the venv scripts/test-deps.sh installs. A crate of its own: one cloud
//! per process, minutes of start-up, run alone rather than beside the other
//! testbed tests.
//!
//! A new test file goes here as `mod NAME;` (see tests/README.md).

#[path = "../support/apply_support.rs"]
mod apply_support;
#[path = "../support/cloud.rs"]
mod cloud;
#[path = "../support/firstboot_support.rs"]
mod firstboot_support;
#[path = "../support/harness.rs"]
mod harness;
#[path = "../support/kolla_firstboot_support.rs"]
mod kolla_firstboot_support;
#[path = "../support/render_support.rs"]
mod render_support;
#[path = "../support/testbed.rs"]
mod testbed;

mod cloud_testbed;
mod deploy_firstboot;
mod networks;
mod register_firstboot;
mod register_openstack;
mod status_cloud;
