//! The openstack profile's first boot on the test bed's real OpenStack: the
//! frontend's kickstart (rendered as the ISO road renders it) carries the site file
//! and a unit whose command registers the nodes from the frontend itself
//! (`--local`). Put on the frontend as %post and the media would, the unit's command
//! runs there with a unit's environment and the real `openstack` / `nova-manage`;
//! nova then maps both compute hosts and lists their hypervisors, and a rerun (the
//! unit retried) changes nothing in nova's databases.

use crate::apply_support::{site_yaml, write_site};
use crate::cloud::Cloud;
use crate::firstboot_support::{heredoc, run_as_unit, run_unit_command, unit_line};
use crate::harness::{self, aerie_bin, node};
use crate::testbed::Testbed;
use serde_json::Value;

#[test]
fn the_first_boot_command_registers_the_nodes_with_the_real_cloud() {
    let tb = Testbed::new(3).unwrap();
    let cloud = Cloud::start(&tb).unwrap();
    eprintln!("cloud start-up: {:?}", cloud.startup);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| first_boot(&tb, &cloud)));
    if r.is_err() {
        eprintln!("{}", cloud.log_tails());
    }
    cloud.stop().unwrap();
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}

fn first_boot(tb: &Testbed, cloud: &Cloud) {
    let fe = tb.host(1);
    assert!(cloud.mapped_hosts().is_empty());
    // Render the testbed's site as the ISO road does and take what the frontend's
    // kickstart writes: the site file and the unit's command.
    let site_path = write_site(tb, &site_yaml(tb));
    let out_dir = tb.dir().join("rendered");
    harness::aerie()
        .arg("render")
        .arg(&site_path)
        .arg("-o")
        .arg(&out_dir)
        .run();
    let ks = std::fs::read_to_string(out_dir.join("host1/ks.cfg")).unwrap();
    let unit = heredoc(&ks, "/etc/systemd/system/aerie-register.service");
    let exec_start = unit_line(&unit, "ExecStart=");
    // What %post and the media put on the frontend: the site file and aerie.
    fe.exec_ok("mkdir -p /etc/aerie /usr/local/sbin");
    std::fs::write(
        fe.path("/etc/aerie/site.yaml"),
        heredoc(&ks, "/etc/aerie/site.yaml"),
    )
    .unwrap();
    std::fs::copy(aerie_bin(), fe.path("/usr/local/sbin/aerie")).unwrap();

    let r = run_unit_command(fe, exec_start);
    assert_eq!(r["frontend"], "host1 (local)", "{r:#}");
    assert_eq!(node(&r, "host2")["status"], "registered", "{r:#}");
    assert_eq!(node(&r, "host3")["status"], "registered", "{r:#}");
    // What nova says: both hosts mapped into the cell, both hypervisors listed.
    assert_eq!(cloud.mapped_hosts(), ["host2", "host3"]);
    assert_eq!(cloud.hypervisors(), ["host2", "host3"]);
    // The real tools ran on the frontend itself: discover_hosts once.
    assert_eq!(
        cloud.calls("nova-manage"),
        ["cell_v2 discover_hosts --verbose"]
    );

    // A rerun (the unit retried) changes nothing.
    let before = cloud.nova_snapshot();
    let run = run_as_unit(fe, &format!("{exec_start} --output json"));
    assert!(run.status.success(), "{}", crate::cloud::explain(&run));
    let r: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(r["summary"]["already_registered"], 2, "{r:#}");
    assert_eq!(cloud.calls("nova-manage").len(), 1);
    assert_eq!(cloud.nova_snapshot(), before);
}
