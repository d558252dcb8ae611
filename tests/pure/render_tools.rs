//! Rendered files checked by the real tools that will read them: pykickstart's
//! ksvalidator and Python's strict configparser.

use crate::harness;
use crate::render_support;

use harness::tool;
use render_support::*;

#[test]
fn ksvalidator_accepts_every_rendered_kickstart() {
    let validator = ksvalidator();
    let mut checked = 0;
    for (label, dir, rendered) in rendered_examples() {
        for f in rendered.files.iter().filter(|f| f.path.ends_with("ks.cfg")) {
            let path = dir.path().join("out").join(&f.path);
            let (ok, text) = tool(&validator).args(["-v", "RHEL9"]).arg(&path).outcome();
            assert!(ok, "{label}: ksvalidator rejects {}:\n{text}", f.path);
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} kickstarts checked");
}

#[test]
fn a_site_with_several_ssh_keys_gives_valid_kickstarts_carrying_every_key() {
    let mut site = example_site("lab");
    let second =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAnotherkeyforthesecondoperator0000000000 ops@desk";
    let third = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQthirdkeyforthethirdoperator000000 ci@runner";
    site.site.ssh_keys.push(second.parse().unwrap());
    site.site.ssh_keys.push(third.parse().unwrap());
    let rendered = render_site(&site, Default::default());
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for f in rendered
        .files
        .iter()
        .filter(|f| f.path.ends_with("/ks.cfg"))
    {
        let text = String::from_utf8_lossy(&f.content);
        assert_eq!(
            text.matches("sshkey --username=root").count(),
            1,
            "{}",
            f.path
        );
        for key in [second, third] {
            assert!(text.contains(key), "{} lacks {key}", f.path);
        }
        let file = dir.path().join("ks.cfg");
        std::fs::write(&file, &f.content).unwrap();
        let (ok, out) = tool(ksvalidator())
            .args(["-v", "RHEL9"])
            .arg(&file)
            .outcome();
        assert!(ok, "ksvalidator rejects {}:\n{out}", f.path);
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} kickstarts checked");
}

#[test]
fn ksvalidator_rejects_a_broken_template() {
    // The same check must be able to fail: a template with a misspelt option.
    let templates = tempfile::tempdir().unwrap();
    let base = aerie::templates::built_in("base.ks.j2").unwrap().text;
    std::fs::write(
        templates.path().join("base.ks.j2"),
        base.replace("bootloader --location=mbr", "bootloader --locaton=mbr"),
    )
    .unwrap();
    let site = example_site("lab");
    let profile = aerie::profile::Profile::built_in(site.site.profile);
    let t = aerie::render::Templates::new(Some(templates.path())).unwrap();
    let rendered = aerie::render::render_site(&site, &profile, &t, Default::default()).unwrap();
    let ks = rendered
        .files
        .iter()
        .find(|f| f.path == "node1/ks.cfg")
        .unwrap();
    let file = templates.path().join("ks.cfg");
    std::fs::write(&file, &ks.content).unwrap();
    let (ok, text) = tool(ksvalidator())
        .args(["-v", "RHEL9"])
        .arg(&file)
        .outcome();
    assert!(!ok, "ksvalidator accepted a broken kickstart:\n{text}");
}

const READ_INI: &str = r#"
import configparser, json, sys
parser = configparser.ConfigParser(strict=True, interpolation=None)
with open(sys.argv[1]) as f:
    parser.read_file(f)
out = {s: {k: parser[s][k] for k in parser._sections[s]} for s in parser.sections()}
out["DEFAULT"] = dict(parser.defaults())
print(json.dumps(out))
"#;

fn read_ini(path: &std::path::Path) -> serde_json::Value {
    let (ok, text) = tool("python3").args(["-c", READ_INI]).arg(path).outcome();
    assert!(
        ok,
        "configparser(strict=True) rejects {}:\n{text}",
        path.display()
    );
    serde_json::from_str(&text).unwrap()
}

#[test]
fn rendered_ini_files_parse_strictly_and_hold_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let site = example_site("lab");
    let rendered = render_site(&site, Default::default());
    aerie::render::output::write(
        &dir.path().join("o"),
        &rendered,
        aerie::render::output::Replace::Never,
    )
    .unwrap();
    let root = |host: &str, path: &str| dir.path().join("o").join(host).join("root").join(path);

    let compute = read_ini(&root("node1", "etc/nova/nova.conf"));
    let spec: serde_json::Value =
        serde_json::from_str(compute["pci"]["device_spec"].as_str().unwrap()).unwrap();
    assert_eq!(spec["vendor_id"], "15b3");
    assert_eq!(spec["product_id"], "1004");
    let alias: serde_json::Value =
        serde_json::from_str(compute["pci"]["alias"].as_str().unwrap()).unwrap();
    assert_eq!(alias["name"], "ib-vf");

    let frontend = read_ini(&root("fe1", "etc/nova/nova.conf"));
    let filters = frontend["filter_scheduler"]["enabled_filters"]
        .as_str()
        .unwrap();
    assert_eq!(
        filters
            .split(',')
            .filter(|f| *f == "PciPassthroughFilter")
            .count(),
        1
    );
    assert!(filters.contains("ComputeFilter"), "{filters}");
}

#[test]
fn merged_distro_ini_files_still_parse_strictly() {
    // A packaged nova.conf with comments and other keys, after every edit.
    let packaged = include_str!("../fixtures/nova.conf");
    let site = example_site("lab");
    let bundles = aerie::concerns::bundles(&site);
    for b in &bundles {
        let mut text = packaged.to_string();
        for e in b.edits.iter().filter(|e| e.path == "/etc/nova/nova.conf") {
            text = e.edit.apply(&text);
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &text).unwrap();
        let ini = read_ini(file.path());
        assert_eq!(ini["DEFAULT"]["my_ip"], "10.20.0.99", "{}", b.hostname);
        // Every line is kept but the key aerie extends (and its continuations).
        let extended = [
            "enabled_filters = AvailabilityZoneFilter,",
            "    ComputeFilter,",
            "    ImagePropertiesFilter",
        ];
        for line in packaged.lines().filter(|l| !extended.contains(l)) {
            assert!(
                text.lines().any(|l| l == line),
                "{}: lost line {line:?}",
                b.hostname
            );
        }
        if b.role == aerie::site::Role::Frontend {
            assert_eq!(
                ini["filter_scheduler"]["enabled_filters"],
                "AvailabilityZoneFilter,ComputeFilter,ImagePropertiesFilter,PciPassthroughFilter"
            );
        }
    }
}
