//! Tests that need neither root nor test hosts: the real binary on files
//! (validate, render, golden trees, converge, grub, site, init wizard, exit
//! codes, lab host checks, Vagrantfile) and the real tools that read its output
//! (ksvalidator, xorriso, cloud-init, vagrant, ruby).
//!
//! A new test file goes here as `mod NAME;` (see tests/README.md).

#[path = "../support/harness.rs"]
mod harness;
#[path = "../support/heredoc.rs"]
mod heredoc;
#[path = "../support/iso_fixtures.rs"]
mod iso_fixtures;
#[allow(dead_code)]
#[path = "../support/pty.rs"]
mod pty;
#[path = "../support/redfish.rs"]
mod redfish;
#[path = "../support/redfish_faults.rs"]
mod redfish_faults;
#[path = "../support/render_support.rs"]
mod render_support;

mod bmc_faults;
mod bmc_redfish;
mod cidata_cloud_init;
mod cloud_config_validator;
mod converge_idempotent;
mod debian_firstboot;
mod debian_node;
mod exit_codes;
mod grub_variants;
mod init_wizard;
mod iso_cli;
mod kolla_render;
mod lab_host_checks;
mod lab_vagrantfile;
mod nova_pci_parsers;
mod pxe_config;
mod register_cli;
mod render_cli;
mod render_golden;
mod render_tools;
mod site_loader_mutations;
mod site_reference;
mod site_roundtrip;
mod validate_cli;
