//! The rendered Vagrantfile is accepted by `vagrant validate` with the
//! vagrant-libvirt plugin (Debian 12's vagrant + vagrant-libvirt packages;
//! no libvirt daemon is needed to validate), parses with `ruby -c`, and
//! matches the golden file (`AERIE_BLESS=1` rewrites it).

use crate::harness;
use harness::{bless, tool};

use aerie::lab::{plan, vagrant};

fn rendered() -> String {
    rendered_with(None)
}

/// The lab example's Vagrantfile, with templates from `dir` first.
fn rendered_with(dir: Option<&std::path::Path>) -> String {
    let site =
        aerie::site::load::from_str(aerie::site::examples::get("lab").unwrap(), "lab").unwrap();
    let sizes = plan::Sizes {
        memory_mib: None,
        cpus: None,
        disk_gb: 20,
    };
    let p = plan::plan(&site, &sizes, "ae-lab").unwrap();
    let templates = aerie::templates::Templates::new(dir).unwrap();
    vagrant::render(&p, "generic/rocky9", &templates).unwrap()
}

/// `vagrant validate` on this Vagrantfile text: (success, stdout + stderr).
fn vagrant_validate(vagrantfile: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Vagrantfile"), vagrantfile).unwrap();
    tool("vagrant")
        .arg("validate")
        .cwd(dir.path())
        .env("VAGRANT_HOME", dir.path().join("vagrant-home"))
        .outcome()
}

#[test]
fn vagrant_validate_accepts_the_lab_vagrantfile() {
    let (ok, text) = vagrant_validate(&rendered());
    assert!(ok, "vagrant validate failed:\n{text}");
    assert!(text.contains("validated successfully"), "{text}");
}

#[test]
fn vagrant_validate_refuses_a_bad_provider_option() {
    // Proves the plugin is loaded and checks the libvirt block.
    let bad = rendered().replacen(
        "lv.nested = true",
        "lv.nested = true\n      lv.no_such_option = 1",
        1,
    );
    let (ok, text) = vagrant_validate(&bad);
    assert!(!ok);
    assert!(text.contains("no_such_option"), "{text}");
}

#[test]
fn ruby_parses_it_and_it_matches_the_golden_file() {
    let text = rendered();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Vagrantfile");
    std::fs::write(&file, &text).unwrap();
    tool("ruby").arg("-c").arg(&file).run();
    let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/lab.Vagrantfile");
    bless(std::path::Path::new(golden), &text);
}

#[test]
fn the_vagrantfile_keeps_the_site() {
    let text = rendered();
    for want in [
        r#"libvirt__network_name: "aerie-lab-mgmt""#,
        r#"libvirt__network_name: "aerie-lab-demo-net""#,
        r#"mac: "52:54:00:00:00:10""#,
        r#"ip: "10.20.0.10""#,
        r#"libvirt__host_ip: "10.20.0.1""#,
        "# demo-net (VLAN 101)",
        "lv.nested = true",
        r#"lv.cpu_mode = "host-passthrough""#,
        "lv.memory = 4096",
        "lv.memory = 2048",
    ] {
        assert!(text.contains(want), "missing {want}:\n{text}");
    }
}

#[test]
fn an_overridden_vagrantfile_template_takes_effect() {
    // The site's own Vagrantfile.j2 in DIR/vagrant/: the built-in one with
    // nested virtualization off and a line of its own (the `ruby` filter
    // still at hand).
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("vagrant")).unwrap();
    let built_in = aerie::templates::built_in("Vagrantfile.j2").unwrap().text;
    assert!(built_in.contains("lv.nested = true"));
    std::fs::write(
        t.path().join("vagrant/Vagrantfile.j2"),
        format!(
            "# site's own: {{{{ site | ruby }}}}\n{}",
            built_in.replace("lv.nested = true", "lv.nested = false")
        ),
    )
    .unwrap();
    let text = rendered_with(Some(t.path()));
    assert!(
        text.starts_with("# site's own: \"lab\"\n# -*- mode: ruby -*-\n"),
        "{text}"
    );
    assert!(text.contains("lv.nested = false") && !text.contains("lv.nested = true"));
    assert_eq!(
        text.replacen("# site's own: \"lab\"\n", "", 1)
            .replace("lv.nested = false", "lv.nested = true"),
        rendered()
    );
    let (ok, out) = vagrant_validate(&text);
    assert!(ok, "vagrant validate failed:\n{out}");
}
