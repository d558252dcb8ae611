//! Every nova.conf / neutron ini setting aerie writes for the example site passes
//! OpenStack's own `oslo-config-validator` (from the test bed's venv, nova 34 and
//! neutron 29): no unknown and no deprecated option (`--fatal-warnings`).

use crate::harness;
use crate::render_support::{bundle_json, render_example_cli};

use std::collections::BTreeMap;
use std::path::Path;

pub const VALIDATOR: &str = "/opt/aerie-test/openstack/bin/oslo-config-validator";

/// The namespaces of each file aerie edits.
fn namespaces(path: &str) -> &'static [&'static str] {
    match path {
        "/etc/nova/nova.conf" => &["nova.conf"],
        "/etc/neutron/dhcp_agent.ini" => &["neutron.dhcp.agent", "neutron.base.agent"],
        other => panic!("aerie edits {other}: name its oslo.config namespaces here"),
    }
}

/// `oslo-config-validator` on `text`: (passed, its report).
fn validate(dir: &Path, name: &str, path: &str, text: &str) -> (bool, String) {
    assert!(
        Path::new(VALIDATOR).exists(),
        "{VALIDATOR} is missing: run scripts/test-deps.sh"
    );
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    let mut run = harness::tool(VALIDATOR).arg("--fatal-warnings");
    for ns in namespaces(path) {
        run = run.args(["--namespace", ns]);
    }
    run.arg("--input-file").arg(&file).outcome()
}

#[test]
fn aeries_nova_and_neutron_settings_pass_oslo_config_validator() {
    let (tmp, out) = render_example_cli("lab");
    // Per node and file, the ini aerie's edits make (sections in order, lists with
    // their defaults, as the edit applies them to a file without the key).
    let mut checked = 0;
    for node in ["fe1", "node1", "node2"] {
        let bundle = bundle_json(&out, node);
        let mut files: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for e in bundle["edits"].as_array().unwrap() {
            let path = e["path"].as_str().unwrap();
            if !path.starts_with("/etc/nova/") && !path.starts_with("/etc/neutron/") {
                continue;
            }
            let ed = &e["edit"];
            let line = match ed["kind"].as_str().unwrap() {
                "ini-set" => format!(
                    "{} = {}",
                    ed["key"].as_str().unwrap(),
                    ed["value"].as_str().unwrap()
                ),
                "ini-add-to-list" => {
                    let mut items: Vec<&str> = ed["default"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    items.push(ed["item"].as_str().unwrap());
                    format!("{} = {}", ed["key"].as_str().unwrap(), items.join(","))
                }
                other => panic!("{node}: edit kind {other} of {path}: teach this test to apply it"),
            };
            files
                .entry(path.to_string())
                .or_default()
                .entry(ed["section"].as_str().unwrap().to_string())
                .or_default()
                .push(line);
        }
        for (path, sections) in files {
            let text: String = sections
                .iter()
                .map(|(s, lines)| format!("[{s}]\n{}\n", lines.join("\n")))
                .collect();
            let name = format!("{node}{}", path.replace('/', "_"));
            let (ok, report) = validate(tmp.path(), &name, &path, &text);
            assert!(ok, "{node} {path}:\n{text}\n{report}");
            checked += 1;
        }
    }
    // fe1, node1, node2: nova.conf (aerie writes no neutron ini for the openstack
    // profile: the external gateways are Neutron subnets, `aerie networks`).
    assert_eq!(checked, 3);
    // The check can fail: the pre-Zed key for the same thing, and a made-up one.
    let (ok, report) = validate(
        tmp.path(),
        "old.conf",
        "/etc/nova/nova.conf",
        "[pci]\npassthrough_whitelist = {\"vendor_id\":\"15b3\"}\n",
    );
    assert!(
        !ok && report.contains("Deprecated opt pci/passthrough_whitelist"),
        "{report}"
    );
    let (ok, report) = validate(
        tmp.path(),
        "bad.ini",
        "/etc/neutron/dhcp_agent.ini",
        "[DEFAULT]\ndnsmasq_conf_file = /etc/x\n",
    );
    assert!(
        !ok && report.contains("DEFAULT/dnsmasq_conf_file is not part of the sample config"),
        "{report}"
    );
}
