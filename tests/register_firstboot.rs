//! The ISO road registers by itself: the frontend's kickstart carries the site
//! file and a first-boot unit running `aerie register --local`. Rendered and
//! checked with ksvalidator (the render tests' helpers), and the unit's command
//! run for real on a frontend test host (its cloud tools are STAND-INS).

mod apply_support;
mod register_support;
#[path = "render_support/mod.rs"]
mod render_support;
use apply_support::*;
use register_support::*;
use render_support::*;

/// The body of the here-document that writes `path` in a kickstart.
fn heredoc(ks: &str, path: &str) -> String {
    let mut lines = ks.lines();
    let start = lines
        .by_ref()
        .find(|l| l.starts_with("cat > ") && l.contains(path) && l.contains("<<'"))
        .unwrap_or_else(|| panic!("no here-document for {path}"));
    let delim = start.rsplit("<<'").next().unwrap().trim_end_matches('\'');
    let mut body = String::new();
    for l in lines {
        if l == delim {
            return body;
        }
        body.push_str(l);
        body.push('\n');
    }
    panic!("unterminated here-document for {path}")
}

fn unit_line<'a>(unit: &'a str, key: &str) -> &'a str {
    unit.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {unit}"))
}

#[test]
fn frontend_kickstart_carries_the_site_and_a_first_boot_unit_ksvalidator_accepts() {
    for name in ["lab", "eucalyptus"] {
        let site = example_site(name);
        let rendered = render_site(&site, Default::default());
        let fe = site.frontend().unwrap().hostname.to_string();
        let file = |path: &str| {
            let f = rendered
                .files
                .iter()
                .find(|f| f.path == path)
                .unwrap_or_else(|| panic!("{name}: no {path}"));
            String::from_utf8(f.content.clone()).unwrap()
        };
        let ks = file(&format!("{fe}/ks.cfg"));
        // The site file is the site itself.
        let text = heredoc(&ks, "/etc/aerie/site.yaml");
        let back = aerie::site::load::from_str(&text, "kickstart").unwrap();
        assert_eq!(back, site, "{name}");
        assert!(ks.contains("chmod 0600 /etc/aerie/site.yaml"), "{name}");
        // The unit: after the cloud's services, once, until it succeeds.
        let unit = heredoc(&ks, "/etc/systemd/system/aerie-register.service");
        assert_eq!(
            unit_line(&unit, "ExecStart="),
            "/usr/local/sbin/aerie register --local /etc/aerie/site.yaml --timeout 3600"
        );
        assert_eq!(
            unit_line(&unit, "ConditionPathExists=!"),
            "/var/lib/aerie/registered"
        );
        assert_eq!(unit_line(&unit, "Restart="), "on-failure");
        assert!(unit_line(&unit, "After=").contains(if name == "lab" {
            "openstack-nova-api.service"
        } else {
            "eucalyptus-cloud.service"
        }));
        assert!(
            ks.contains("systemctl enable aerie-register.service"),
            "{name}"
        );
        // Compute nodes do not get it.
        for n in site
            .nodes
            .iter()
            .filter(|n| n.role == aerie::site::Role::Compute)
        {
            assert!(!file(&format!("{}/ks.cfg", n.hostname)).contains("aerie-register"));
        }
        // pykickstart accepts the frontend's kickstart as a whole.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ks.cfg");
        std::fs::write(&path, &ks).unwrap();
        let (ok, out) = run(std::process::Command::new(ksvalidator())
            .args(["-v", "RHEL9"])
            .arg(&path));
        assert!(ok, "{name}: ksvalidator: {out}");
    }
}

#[test]
fn the_first_boot_command_registers_the_nodes_on_the_frontend_itself_standin() {
    let tb = testbed(3);
    let fe = tb.host(1);
    install_cloud_standins(fe);
    write_state(fe, &cloud_state(&tb, &[(3, Some(2))]));
    // Render the testbed's site as the ISO road does and take what the frontend's
    // kickstart writes: the site file and the unit's command.
    let site_path = write_site(&tb, &site_yaml(&tb));
    let out_dir = tb.dir().join("rendered");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_aerie"))
        .arg("render")
        .arg(&site_path)
        .arg("-o")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", explain(&out));
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
    std::fs::copy(
        env!("CARGO_BIN_EXE_aerie"),
        fe.path("/usr/local/sbin/aerie"),
    )
    .unwrap();

    let run = fe.exec(&format!("{exec_start} --poll-interval 0.1 --output json"));
    assert!(
        run.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(r["frontend"], "host1 (local)");
    assert_eq!(node(&r, "host2")["status"], "registered");
    assert_eq!(node(&r, "host3")["status"], "registered");
    assert_eq!(
        calls(fe, "nova-manage"),
        ["cell_v2 discover_hosts --verbose"]
    );
    // A rerun (the unit retried) changes nothing.
    let run = fe.exec(&format!("{exec_start} --output json"));
    assert!(run.status.success());
    let r: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(r["summary"]["already_registered"], 2);
    assert_eq!(calls(fe, "nova-manage").len(), 1);
}
