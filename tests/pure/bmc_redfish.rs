//! `aerie bmc` against sushy-tools' Redfish emulator (the real one, fake
//! system driver): power, boot once from an ISO by URL with every slot
//! ejected first, each node's state read back from the emulator through
//! Redfish GETs; wrong credentials, an unreachable BMC and TLS trust.

use crate::harness::{aerie, OutputText};
use crate::harness::{json, node};
use crate::redfish::{self, Emulator, FileServer};

#[test]
fn fifty_systems_boot_once_from_the_iso_and_the_emulator_says_so() {
    let emulator = Emulator::start(50, None);
    let iso = FileServer::start(vec![0x41; 64 * 1024]);
    let url = iso.url("aerie.iso");
    let dir = tempfile::tempdir().unwrap();
    let site = redfish::write_plain_site(dir.path(), &emulator.base(), &emulator.systems);
    // Something already in system 0's other slot, and system 1 already on:
    // every slot is ejected, and a running system is restarted.
    let s0 = &emulator.systems[0];
    let s1 = &emulator.systems[1];
    emulator.post(
        &format!("/redfish/v1/Systems/{s0}/VirtualMedia/Floppy/Actions/VirtualMedia.InsertMedia"),
        serde_json::json!({ "Image": iso.url("old.img") }),
    );
    emulator.post(
        &format!("/redfish/v1/Systems/{s1}/Actions/ComputerSystem.Reset"),
        serde_json::json!({ "ResetType": "On" }),
    );
    assert_eq!(emulator.wait_power(s1, "On"), "On");

    let out = aerie()
        .args(["bmc", "boot"])
        .arg(&site)
        .args(["--iso", &url, "--output", "json"])
        .run();
    let report = json(&out.stdout_text());
    assert_eq!(report["summary"]["ok"], 50, "{report:#}");
    let n0 = node(&report, "n0");
    assert!(
        n0["did"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "ejected 1"),
        "{n0:#}"
    );
    assert!(node(&report, "n1")["did"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d == "reset ForceRestart"));
    assert!(node(&report, "n2")["did"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d == "reset On"));
    // The sushy quirk (it reports Continuous) is named, from the table.
    assert!(
        n0["notes"].to_string().contains("reads back as Continuous"),
        "{n0:#}"
    );

    for system in &emulator.systems {
        let cd = emulator.get(&format!("/redfish/v1/Systems/{system}/VirtualMedia/Cd"));
        assert_eq!(cd["Image"], url.as_str(), "{system}: {cd:#}");
        assert_eq!(cd["Inserted"], true, "{system}");
        let floppy = emulator.get(&format!("/redfish/v1/Systems/{system}/VirtualMedia/Floppy"));
        assert_eq!(floppy["Inserted"], false, "{system}: {floppy:#}");
        let sys = emulator.get(&format!("/redfish/v1/Systems/{system}"));
        assert_eq!(sys["Boot"]["BootSourceOverrideTarget"], "Cd", "{system}");
    }
    for system in &emulator.systems {
        assert_eq!(emulator.wait_power(system, "On"), "On", "{system}");
    }
    // power status reads them all back, as a table.
    let out = aerie()
        .args(["bmc", "power", "status"])
        .arg(&site)
        .args(["--nodes", "n0,n7"])
        .run();
    let text = out.stdout_text();
    assert!(text.starts_with("NODE"), "{text}");
    assert_eq!(text.matches("  ok  ").count(), 2, "{text}");
    assert!(text.contains("bmc power status: 2 ok, 0 failed"), "{text}");
}

#[test]
fn power_off_on_and_cycle_reach_the_emulator() {
    let emulator = Emulator::start(3, None);
    let dir = tempfile::tempdir().unwrap();
    let site = redfish::write_plain_site(dir.path(), &emulator.base(), &emulator.systems);
    let power = |op: &str| {
        let out = aerie()
            .args(["bmc", "power", op])
            .arg(&site)
            .args(["--output", "json"])
            .run();
        json(&out.stdout_text())
    };
    let on = power("on");
    assert!(
        node(&on, "n0")["did"].to_string().contains("reset On"),
        "{on:#}"
    );
    for s in &emulator.systems {
        assert_eq!(emulator.wait_power(s, "On"), "On");
    }
    let again = power("on");
    assert_eq!(
        node(&again, "n0")["did"],
        serde_json::json!([]),
        "on twice: {again:#}"
    );
    assert_eq!(node(&again, "n0")["power"], "On");
    let cycle = power("cycle");
    assert!(
        node(&cycle, "n1")["did"]
            .to_string()
            .contains("ForceRestart"),
        "{cycle:#}"
    );
    // A cycle ends with the system on again. The emulator shows Off at once and
    // turns On 1-11 s later; an `off` sent before that would see Off, do nothing
    // (as it should) and then race the pending restart.
    for s in &emulator.systems {
        assert_eq!(emulator.wait_power(s, "On"), "On", "cycle of {s} ends On");
    }
    power("off");
    for s in &emulator.systems {
        assert_eq!(emulator.wait_power(s, "Off"), "Off");
    }
    let status = power("status");
    assert_eq!(node(&status, "n2")["power"], "Off", "{status:#}");
}

#[test]
fn wrong_password_and_unreachable_bmc_fail_alone_with_clear_words() {
    let emulator = Emulator::start(3, None);
    let dir = tempfile::tempdir().unwrap();
    // n2's BMC is a port nothing listens on.
    let closed = redfish::free_port();
    let mut text = redfish::site_yaml(&emulator.base(), &emulator.systems, &|_| String::new());
    text = text.replacen(
        &format!(
            "address: {}\n      user: admin\n      system-id: {}",
            emulator.base(),
            emulator.systems[2]
        ),
        &format!(
            "address: http://127.0.0.1:{closed}\n      user: admin\n      system-id: {}",
            emulator.systems[2]
        ),
        1,
    );
    let site = redfish::write_site(
        dir.path(),
        &text,
        &redfish::secrets_yaml(3, &|i| {
            if i == 1 {
                "wrong".to_string()
            } else {
                redfish::PASSWORD.to_string()
            }
        }),
    );
    let start = std::time::Instant::now();
    let out = aerie()
        .args(["bmc", "power", "status"])
        .arg(&site)
        .args(["--attempts", "2", "--timeout", "5"])
        .code(2)
        .run();
    let text = out.text();
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
    assert!(
        text.contains("n1: error: the BMC refused the login of \"admin\" (HTTP 401)"),
        "{text}"
    );
    assert!(text.contains("aerie bmc password NODE"), "{text}");
    assert!(
        text.contains(&format!(
            "n2: error: cannot reach the BMC at http://127.0.0.1:{closed}"
        )),
        "{text}"
    );
    assert!(
        text.contains("bmc power status: 1 ok, 2 failed (1 unreachable)"),
        "{text}"
    );
    assert!(
        !text.contains("wrong") && !text.contains(redfish::PASSWORD),
        "{text}"
    );

    // A node without a password in the secrets file: nothing is sent.
    std::fs::write(
        dir.path().join("rack.secrets.yaml"),
        "bmc-passwords:\n  n0: x\n",
    )
    .unwrap();
    let out = aerie()
        .args(["bmc", "power", "status"])
        .arg(&site)
        .code(64)
        .run();
    assert!(
        out.text().contains("no BMC password for n1, n2 in")
            && out.text().contains("aerie bmc password NODE"),
        "{}",
        out.text()
    );
}

#[test]
fn tls_trusts_a_pinned_fingerprint_or_insecure_never_silently() {
    let dir = tempfile::tempdir().unwrap();
    let cert = redfish::make_cert(dir.path());
    let emulator = Emulator::start(1, Some(&cert));
    let pin = redfish::fingerprint(&cert.der);
    let secrets = redfish::secrets_yaml(1, &|_| redfish::PASSWORD.to_string());
    let with = |extra: &str| {
        let extra = extra.to_string();
        redfish::write_site(
            dir.path(),
            &redfish::site_yaml(&emulator.base(), &emulator.systems, &move |_| extra.clone()),
            &secrets,
        )
    };
    // The right pin: trusted.
    let site = with(&format!("      tls-fingerprint: \"{pin}\"\n"));
    let out = aerie().args(["bmc", "power", "status"]).arg(&site).run();
    assert!(out.stdout_text().contains("  ok  "), "{}", out.text());

    // `aerie bmc power status` on a site it must refuse (exit 2): its text.
    let refused = |site: &std::path::Path| {
        aerie()
            .args(["bmc", "power", "status"])
            .arg(site)
            .code(2)
            .run()
            .text()
    };
    // Another pin: refused, naming what the BMC presented.
    let other = format!("sha256:{}", "00".repeat(32));
    let text = refused(&with(&format!("      tls-fingerprint: \"{other}\"\n")));
    assert!(
        text.contains(&format!(
            "the BMC presented the certificate {pin}, not the pinned"
        )),
        "{text}"
    );

    // No pin: the system's CAs do not know it; the refusal says what to pin.
    let site = with("");
    let text = refused(&site);
    assert!(
        text.contains("is not trusted") && text.contains(&format!("tls-fingerprint: \"{pin}\"")),
        "{text}"
    );
    // --insecure: trusted, and said.
    let out = aerie()
        .args(["bmc", "power", "status", "--insecure"])
        .arg(&site)
        .run();
    assert!(
        out.stderr_text().contains("warning: --insecure"),
        "{}",
        out.text()
    );
    assert!(out.stdout_text().contains("  ok  "), "{}", out.text());
}

#[test]
fn bmc_password_is_kept_0600_and_never_printed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let site = redfish::write_site(
        dir.path(),
        &redfish::site_yaml(
            "https://10.44.9.9",
            &["1".to_string(), "2".to_string()],
            &|_| String::new(),
        ),
        "{}\n",
    );
    let out = aerie()
        .args(["bmc", "password", "n1"])
        .arg(&site)
        .stdin("s3cret-Pw\n")
        .run();
    assert!(!out.text().contains("s3cret"), "{}", out.text());
    let path = dir.path().join("rack.secrets.yaml");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let kept = aerie::site::secrets::read(&path).unwrap();
    assert_eq!(kept.bmc_password("n1").unwrap().expose(), "s3cret-Pw");
    let out = aerie()
        .args(["bmc", "password", "n9"])
        .arg(&site)
        .stdin("x\n")
        .code(64)
        .run();
    assert!(
        out.text()
            .contains("--nodes names n9, which is not in the site"),
        "{}",
        out.text()
    );
}
