//! `aerie pxe config` and `aerie pxe serve`'s early refusals through the real
//! binary (nothing is started: no root, no dnsmasq).

use crate::harness::aerie;
use std::os::unix::fs::PermissionsExt;

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn config_writes_dnsmasq_scripts_and_kickstarts_and_never_over_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let o = aerie()
        .cwd(tmp.path())
        .args([
            "pxe",
            "config",
            "--example",
            "netboot",
            "-o",
            "out",
            "--console",
            "ttyS0",
        ])
        .output();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("(7 files for 3 nodes)"), "{}", text(&o));
    let out = tmp.path().join("out");
    let conf = std::fs::read_to_string(out.join("dnsmasq.conf")).unwrap();
    assert!(
        conf.contains("dhcp-host=52:54:00:00:00:11,10.20.0.11,node1\n"),
        "{conf}"
    );
    let script = std::fs::read_to_string(out.join("boot/52-54-00-00-00-11.ipxe")).unwrap();
    assert!(
        script.contains("inst.ks=http://10.20.0.2:8080/ks/node1.cfg"),
        "{script}"
    );
    assert!(script.contains("console=ttyS0,115200"), "{script}");
    let ks = out.join("ks/node1.cfg");
    assert!(std::fs::read_to_string(&ks)
        .unwrap()
        .contains("-X POST http://10.20.0.2:8080/done/node1\n%end\n"));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&ks), 0o600, "kickstarts hold the root password hash");
    assert_eq!(mode(&out), 0o700);

    let o = aerie()
        .cwd(tmp.path())
        .args(["pxe", "config", "--example", "netboot", "-o", "out"])
        .output();
    assert_eq!(o.status.code(), Some(73), "{}", text(&o));
    assert!(
        text(&o).contains("remove it or choose another -o"),
        "{}",
        text(&o)
    );
}

#[test]
fn serve_refuses_a_site_without_netboot_and_a_missing_base() {
    let tmp = tempfile::tempdir().unwrap();
    let o = aerie()
        .cwd(tmp.path())
        .args(["pxe", "serve", "--example", "lab", "--base", "none.iso"])
        .output();
    assert_eq!(o.status.code(), Some(65), "{}", text(&o));
    assert!(
        text(&o).contains("has no `netboot:` section"),
        "{}",
        text(&o)
    );
    let o = aerie()
        .cwd(tmp.path())
        .args(["pxe", "serve", "--example", "netboot", "--base", "none.iso"])
        .output();
    assert_eq!(o.status.code(), Some(66), "{}", text(&o));
    assert!(text(&o).contains("none.iso does not exist"), "{}", text(&o));
    assert!(
        !tmp.path().join("aerie-pxe").exists(),
        "made its folder before the checks"
    );
}
