//! Nova's own PCI parsers (nova 34 from the test bed's venv) read the `[pci]
//! device_spec` and `alias` aerie writes for the example site to the devices the site
//! means: tests/cloud/pci_check.py loads each rendered nova.conf as nova's services
//! do, and says what nova's whitelist admits and what the flavor's alias requests.

use crate::harness;
use crate::render_support::{bundle_json, render_example_cli};
use serde_json::{json, Value};
use std::path::Path;

const PYTHON: &str = "/opt/aerie-test/openstack/bin/python3";
const CHECK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cloud/pci_check.py");

/// pci_check.py on `conf` with the flavor alias values `requests`: its JSON, or
/// (Err) nova's message.
fn nova_reads(conf: &Path, requests: &[&str]) -> Result<Value, String> {
    assert!(
        Path::new(PYTHON).exists(),
        "{PYTHON} is missing: run scripts/test-deps.sh"
    );
    let out = harness::tool(PYTHON)
        .arg(CHECK)
        .arg(conf)
        .args(requests)
        .output();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if !out.status.success() {
        return Err(text(&out.stderr));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("{e}: {}", text(&out.stdout)))
}

#[test]
fn nova_reads_aeries_device_spec_and_alias_as_the_site_means_them() {
    let (_tmp, out) = render_example_cli("lab");
    // The flavor's property, as aerie's frontend action creates it.
    let bundle = bundle_json(&out, "fe1");
    let argv = bundle["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["argv"].to_string().contains("flavor"))
        .map(|a| a["argv"].as_array().unwrap().clone())
        .expect("the frontend's flavor action");
    let property = argv
        .iter()
        .filter_map(Value::as_str)
        .find_map(|a| a.strip_prefix("pci_passthrough:alias="))
        .expect("the flavor's pci_passthrough:alias");
    assert_eq!(property, "ib-vf:1");

    // examples/lab.yaml: alias ib-vf, vendor 15b3, product 1004, handed out as VFs.
    let alias = json!({"ib-vf": {"numa_policy": "legacy", "specs": [
        {"dev_type": "type-VF", "product_id": "1004", "vendor_id": "15b3"}]}});
    let request = json!([{"alias_name": "ib-vf", "count": 1, "spec": [
        {"dev_type": "type-VF", "product_id": "1004", "vendor_id": "15b3"}]}]);
    for node in ["node1", "node2"] {
        let r = nova_reads(&out.join(node).join("root/etc/nova/nova.conf"), &[property])
            .unwrap_or_else(|e| panic!("{node}: nova refuses aerie's nova.conf: {e}"));
        assert_eq!(
            r["device_spec"],
            json!([{"vendor_id": "15b3", "product_id": "1004", "tags": {}}]),
            "{node}: {r:#}"
        );
        assert_eq!(
            r["assignable"],
            json!({"vf": true, "pf": false, "other-vendor": false}),
            "{node}: {r:#}"
        );
        assert_eq!(r["aliases"], alias, "{node}: {r:#}");
        assert_eq!(r["requests"][property], request, "{node}: {r:#}");
    }
    // The frontend (API, scheduler) reads the alias too, and admits no device itself.
    let r = nova_reads(&out.join("fe1/root/etc/nova/nova.conf"), &[property]).unwrap();
    assert_eq!(r["aliases"], alias, "{r:#}");
    assert_eq!(r["requests"][property], request, "{r:#}");
    assert_eq!(r["device_spec"], json!([]), "{r:#}");
}

/// The check can fail: a spelling nova does not accept is refused with nova's own
/// message, and a device_spec for another card admits none of the site's.
#[test]
fn nova_refuses_a_wrong_alias_and_a_foreign_spec_admits_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("nova.conf");
    std::fs::write(
        &conf,
        "[pci]\nalias = {\"device_type\":\"VF\",\"name\":\"ib-vf\",\"product_id\":\"1004\",\"vendor_id\":\"15b3\"}\n",
    )
    .unwrap();
    let e = nova_reads(&conf, &["ib-vf:1"]).unwrap_err();
    assert!(e.contains("device_type") || e.contains("VF"), "{e}");

    std::fs::write(
        &conf,
        "[pci]\ndevice_spec = {\"product_id\":\"1004\",\"vendor_id\":\"8086\"}\n",
    )
    .unwrap();
    let r = nova_reads(&conf, &[]).unwrap();
    assert_eq!(r["assignable"]["vf"], false, "{r:#}");
    assert_eq!(r["assignable"]["other-vendor"], true, "{r:#}");
}
