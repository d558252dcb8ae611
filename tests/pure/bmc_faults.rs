//! `aerie bmc boot` through a fault-injecting stand-in in front of
//! sushy-tools' emulator: a 503 on the first insert and a dropped connection
//! are retried; a BMC that ignores the boot override fails alone; a make of
//! BMC that refuses media while on and boots virtual media as `UsbCd` works
//! because the quirks table says so (and fails without that entry). The
//! other nodes finish either way. A BMC with a SessionService and ETags:
//! every request but the service root's goes with the session's token, the
//! session is closed, each PATCH carries `If-Match`, a 412 is read again and
//! sent again, a wrong password is refused by the session service alone.

use crate::harness::{aerie, OutputText};
use crate::harness::{json, node};
use crate::redfish::{self, Emulator, FileServer};
use crate::redfish_faults::{Fault, FaultProxy, Features};
use serde_json::Value;
use std::collections::HashMap;

const STAND_IN: &str = "Aerie Stand-in BMC";

fn quirks_with_stand_in() -> String {
    format!(
        "- match: {STAND_IN}\n  why: the test's stand-in refuses media while on and boots it as UsbCd\n  \
         power-off-before-insert: true\n  cd-target: UsbCd\n  once-reads-back-as: [Once, Continuous]\n\
         - match: Sushy Emulator\n  once-reads-back-as: [Once, Continuous]\n- match: \"\"\n"
    )
}

#[test]
fn faults_are_retried_or_fail_alone_and_quirks_come_from_the_table() {
    let emulator = Emulator::start(6, None);
    let s = emulator.systems.clone();
    let iso = FileServer::start(vec![0x42; 16 * 1024]);
    let url = iso.url("aerie.iso");
    let faults = HashMap::from([
        (s[0].clone(), vec![Fault::BusyOnFirstInsert]),
        (s[1].clone(), vec![Fault::DropFirstGet]),
        (s[2].clone(), vec![Fault::IgnoresBootOnce]),
        (s[3].clone(), vec![Fault::PlaysVendor(STAND_IN.to_string())]),
    ]);
    let proxy = FaultProxy::start(emulator.port, faults);
    // The stand-in's system runs: it must be powered off before the insert.
    emulator.post(
        &format!("/redfish/v1/Systems/{}/Actions/ComputerSystem.Reset", s[3]),
        serde_json::json!({ "ResetType": "On" }),
    );
    assert_eq!(emulator.wait_power(&s[3], "On"), "On");

    let dir = tempfile::tempdir().unwrap();
    let site = redfish::write_plain_site(dir.path(), &proxy.base(), &s);
    let quirks = dir.path().join("quirks.yaml");
    std::fs::write(&quirks, quirks_with_stand_in()).unwrap();

    // Without the stand-in's entry, its node fails on its own words.
    let out = aerie()
        .args(["bmc", "boot"])
        .arg(&site)
        .args(["--nodes", "n3", "--iso", &url, "--attempts", "2"])
        .code(2)
        .run();
    assert!(
        out.text().contains("n3: error: POST")
            && out.text().contains(
                "HTTP 409: Virtual media cannot be inserted while the system is powered on"
            ),
        "{}",
        out.text()
    );

    let out = aerie()
        .args(["bmc", "boot"])
        .arg(&site)
        .args(["--iso", &url, "--output", "json", "--quirks"])
        .arg(&quirks)
        .code(2)
        .run();
    let report: Value = serde_json::from_str(&out.stdout_text()).unwrap();
    let log = proxy.log();
    assert_eq!(report["summary"]["ok"], 5, "{report:#}\n{log:#?}");

    // 503 on the first insert: retried, noted, done.
    let n0 = node(&report, "n0");
    assert_eq!(n0["ok"], true, "{n0:#}");
    assert!(n0["retries"].as_u64().unwrap() >= 1, "{n0:#}");
    assert!(
        n0["notes"]
            .to_string()
            .contains("InsertMedia: HTTP 503; retried"),
        "{n0:#}"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with(&format!("{}: 503 on InsertMedia", s[0]))),
        "{log:#?}"
    );

    // A dropped connection: retried, done.
    let n1 = node(&report, "n1");
    assert_eq!(n1["ok"], true, "{n1:#}");
    assert!(
        n1["notes"].to_string().contains("the connection dropped"),
        "{n1:#}"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with(&format!("{}: dropped", s[1]))),
        "{log:#?}"
    );

    // A BMC that ignores the boot override: sent twice, then that node fails.
    let n2 = node(&report, "n2");
    assert_eq!(n2["ok"], false, "{n2:#}");
    let error = n2["error"].as_str().unwrap();
    assert!(
        error.contains("accepted the one-time boot override to Cd twice but ignores it"),
        "{error}"
    );
    assert!(
        error.contains("BootSourceOverrideTarget \"Hdd\""),
        "{error}"
    );
    assert_eq!(
        log.iter()
            .filter(|l| l.contains("ignored a boot override"))
            .count(),
        2,
        "{log:#?}"
    );

    // The stand-in make: powered off first, then UsbCd, from the table.
    let n3 = node(&report, "n3");
    assert_eq!(n3["ok"], true, "{n3:#}");
    let did = n3["did"].to_string();
    assert!(
        did.contains("reset ForceOff")
            && did.contains("boot once UsbCd")
            && did.contains("reset On"),
        "{n3:#}"
    );
    assert!(
        n3["notes"]
            .to_string()
            .contains("powered off before insert"),
        "{n3:#}"
    );
    assert!(
        !log.iter().any(|l| l.contains("refused target Cd")),
        "{log:#?}"
    );

    // The others were untouched by the faults, and every booted system's
    // state is what aerie says, read from the emulator itself.
    for (i, system) in s.iter().enumerate() {
        if i == 2 {
            continue;
        }
        assert_eq!(node(&report, &format!("n{i}"))["ok"], true);
        let cd = emulator.get(&format!("/redfish/v1/Systems/{system}/VirtualMedia/Cd"));
        assert_eq!(cd["Image"], url.as_str(), "{system}");
        let sys = emulator.get(&format!("/redfish/v1/Systems/{system}"));
        assert_eq!(sys["Boot"]["BootSourceOverrideTarget"], "Cd", "{system}");
    }
    for (i, system) in s.iter().enumerate() {
        if i != 2 {
            assert_eq!(emulator.wait_power(system, "On"), "On", "{system}");
        }
    }
    assert_eq!(node(&report, "n4")["retries"], 0);
}

#[test]
fn a_session_carries_the_requests_and_is_closed_and_patches_carry_the_etag() {
    let emulator = Emulator::start(3, None);
    let s = emulator.systems.clone();
    let iso = FileServer::start(vec![0x43; 16 * 1024]);
    let url = iso.url("aerie.iso");
    let faults = HashMap::from([(s[1].clone(), vec![Fault::StaleOnFirstPatch])]);
    let features = Features {
        sessions: true,
        etags: true,
    };
    let proxy = FaultProxy::start_with(emulator.port, faults, features);
    let dir = tempfile::tempdir().unwrap();
    // n2's password is wrong: the session service refuses it, and only it.
    let site = redfish::write_site(
        dir.path(),
        &redfish::site_yaml(&proxy.base(), &s, &|_| String::new()),
        &redfish::secrets_yaml(3, &|i| {
            if i == 2 {
                "not-the-password"
            } else {
                redfish::PASSWORD
            }
            .to_string()
        }),
    );
    let out = aerie()
        .args(["bmc", "boot"])
        .arg(&site)
        .args(["--iso", &url, "--output", "json"])
        .code(2)
        .run();
    let report = json(&out.stdout_text());
    assert_eq!(node(&report, "n0")["ok"], true, "{report:#}");
    let n1 = node(&report, "n1");
    assert_eq!(n1["ok"], true, "{report:#}");
    assert!(n1["notes"].to_string().contains("HTTP 412"), "{n1:#}");
    let n2 = node(&report, "n2");
    assert!(
        n2["error"].as_str().unwrap().contains("refused the login"),
        "{n2:#}"
    );
    for system in &s[..2] {
        let cd = emulator.get(&format!("/redfish/v1/Systems/{system}/VirtualMedia/Cd"));
        assert_eq!(cd["Image"], url.as_str(), "{system}: {cd:#}");
    }

    let log = proxy.log();
    let text = log.join("\n");
    // Basic authentication only for each node's service root; the rest with
    // the session's token (n2 never got one).
    let basic: Vec<&String> = log
        .iter()
        .filter(|l| l.starts_with("auth basic:"))
        .collect();
    assert_eq!(basic.len(), 3, "{text}");
    assert!(
        basic
            .iter()
            .all(|l| l.as_str() == "auth basic: GET /redfish/v1/"),
        "{text}"
    );
    assert!(
        log.iter().filter(|l| l.starts_with("auth token:")).count() > 10,
        "{text}"
    );
    assert_eq!(
        log.iter()
            .filter(|l| l.ends_with(" opened for admin"))
            .count(),
        2,
        "{text}"
    );
    assert_eq!(
        log.iter().filter(|l| l.ends_with(" closed")).count(),
        2,
        "{text}"
    );
    assert!(text.contains("session refused for admin"), "{text}");
    for system in &s[..2] {
        assert!(
            text.contains(&format!("{system}: PATCH with If-Match")),
            "{text}"
        );
        assert!(
            !text.contains(&format!("{system}: PATCH without If-Match")),
            "{text}"
        );
    }
    assert!(text.contains(&format!("{}: 412 on PATCH", s[1])), "{text}");
}
