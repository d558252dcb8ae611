//! A Debian 12 site: valid without kickstart keys, rendered without
//! kickstarts, its bundles regenerate GRUB with update-grub (never
//! grub2-mkconfig or grubby), and `aerie converge` edits Debian 12's own
//! /etc/default/grub in a fake root. The commands that install by kickstart
//! refuse it by its key and say the roads that work.

use crate::harness::{self, aerie};
use crate::render_support;

use render_support::*;
use std::path::{Path, PathBuf};

/// The lab example as a Debian 12 site (install-disk is kickstart-only).
fn debian_lab() -> String {
    let lab = aerie::site::examples::get("lab").unwrap();
    let text = lab
        .replacen("distro: rocky9", "distro: debian12", 1)
        .replace("    install-disk: sda\n", "");
    assert!(!text.contains("install-disk") && text.contains("debian12"));
    text
}

/// node1's SSH address in the lab example: its management address.
fn debian_node_address() -> String {
    let site = aerie::site::load::from_str(&debian_lab(), "deb").unwrap();
    let node = site
        .nodes
        .iter()
        .find(|n| n.hostname.as_str() == "node1")
        .unwrap();
    node.ssh_host(&site).unwrap()
}

fn workdir(site: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deb.yaml"), site).unwrap();
    dir
}

/// `aerie validate deb.yaml` on `site` in a work folder of its own: (exit code, text).
fn validate(site: &str) -> (i32, String) {
    let dir = workdir(site);
    aerie()
        .cwd(dir.path())
        .args(["validate", "deb.yaml"])
        .code_text()
}

/// GRUB_CMDLINE_LINUX and _DEFAULT as update-grub reads them (a shell sources the file).
fn sourced(file: &Path) -> (String, String) {
    let script = format!(
        ". '{}'; printf '%s\\n%s' \"$GRUB_CMDLINE_LINUX\" \"$GRUB_CMDLINE_LINUX_DEFAULT\"",
        file.display()
    );
    let (ok, out) = harness::tool("sh").args(["-c", &script]).outcome();
    assert!(ok, "{out}");
    let (a, b) = out.split_once('\n').unwrap();
    (a.to_string(), b.to_string())
}

#[test]
fn a_debian_site_validates_and_renders_bundles_without_kickstarts() {
    let dir = workdir(&debian_lab());
    let (code, out) = aerie()
        .cwd(dir.path())
        .args(["validate", "deb.yaml"])
        .code_text();
    assert_eq!(code, 0, "{out}");
    let (code, out) = aerie()
        .cwd(dir.path())
        .args(["render", "deb.yaml", "-o", "out"])
        .code_text();
    assert_eq!(code, 0, "{out}");
    let out_dir = dir.path().join("out");
    let files: Vec<PathBuf> = files_under(&out_dir);
    assert!(
        files.iter().all(|f| f.file_name().unwrap() != "ks.cfg"),
        "a kickstart for a Debian site: {files:?}"
    );
    let plan = std::fs::read_to_string(out_dir.join("plan.txt")).unwrap();
    assert!(plan.contains("debian12"), "{plan}");
    assert!(plan.contains("No kickstarts"), "{plan}");
    assert!(
        plan.contains("--config-only --cidata --node HOST"),
        "{plan}"
    );

    let actions = std::fs::read_to_string(out_dir.join("node1/actions.txt")).unwrap();
    assert!(actions.contains("update-grub"), "{actions}");
    assert!(!actions.contains("grub2-mkconfig"), "{actions}");
    assert!(!actions.contains("grubby"), "{actions}");
    let root = out_dir.join("node1/root");
    let modprobe = std::fs::read_to_string(root.join("etc/modprobe.d/mlx4_core.conf")).unwrap();
    assert!(
        modprobe.contains("options mlx4_core num_vfs=16 "),
        "{modprobe}"
    );
    let nested = std::fs::read_to_string(root.join("etc/modprobe.d/kvm-nested.conf")).unwrap();
    assert!(nested.contains("options kvm_intel nested=1\n"), "{nested}");
    assert!(root
        .join("etc/systemd/system/aerie-metadata-redirect.service")
        .is_file());

    // The restarts use Debian's unit names (nova-compute), not RDO's.
    let bundle: aerie::bundle::HostBundle =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("node1/bundle.json")).unwrap())
            .unwrap();
    let argvs: Vec<String> = bundle.actions.iter().map(|a| a.argv.join(" ")).collect();
    assert!(
        argvs.iter().all(|a| !a.contains("openstack-nova")),
        "{argvs:?}"
    );
    let fe: aerie::bundle::HostBundle =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("fe1/bundle.json")).unwrap())
            .unwrap();
    let fe_argvs: Vec<String> = fe.actions.iter().map(|a| a.argv.join(" ")).collect();
    assert!(
        fe_argvs
            .iter()
            .any(|a| a == "systemctl try-restart nova-scheduler"),
        "{fe_argvs:?}"
    );
}

#[test]
fn converge_edits_debian12s_own_grub_defaults_and_names_update_grub() {
    let dir = workdir(&debian_lab());
    let (code, out) = aerie()
        .cwd(dir.path())
        .args(["render", "deb.yaml", "-o", "out"])
        .code_text();
    assert_eq!(code, 0, "{out}");
    let bundle = dir.path().join("out/node1/bundle.json");
    let root = tempfile::tempdir().unwrap();
    write_accounts(root.path());
    let grub = root.path().join("etc/default/grub");
    std::fs::create_dir_all(grub.parent().unwrap()).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grub/debian12");
    std::fs::copy(&fixture, &grub).unwrap();
    let before = std::fs::read_to_string(&grub).unwrap();

    let converge = |root: &Path| {
        aerie()
            .cwd(dir.path())
            .args([
                "converge",
                bundle.to_str().unwrap(),
                "--root",
                root.to_str().unwrap(),
            ])
            .code_text()
    };
    let (code, out) = converge(root.path());
    assert_eq!(code, 0, "{out}");
    let (linux, default) = sourced(&grub);
    let (_, default_before) = sourced(&fixture);
    let words: Vec<&str> = linux.split_whitespace().collect();
    for arg in ["intel_iommu=on", "iommu=pt"] {
        assert_eq!(words.iter().filter(|w| **w == arg).count(), 1, "{linux}");
    }
    assert_eq!(
        default, default_before,
        "GRUB_CMDLINE_LINUX_DEFAULT changed"
    );
    let after = std::fs::read_to_string(&grub).unwrap();
    // Every line of Debian's file but GRUB_CMDLINE_LINUX is kept as it was.
    let untouched = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("GRUB_CMDLINE_LINUX="))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(untouched(&after), untouched(&before));
    assert!(
        out.contains("not run (root is not /): update-grub"),
        "{out}"
    );
    assert!(
        !out.contains("grub2-mkconfig") && !out.contains("grubby"),
        "{out}"
    );
    assert!(root.path().join("run/aerie/reboot-required").is_file());
    for f in [
        "etc/modprobe.d/mlx4_core.conf",
        "etc/modprobe.d/kvm-nested.conf",
    ] {
        assert!(root.path().join(f).is_file(), "{f}");
    }

    // Converged again: the file is the same and update-grub has no reason to run.
    let (code, again) = converge(root.path());
    assert_eq!(code, 0, "{again}");
    assert_eq!(std::fs::read_to_string(&grub).unwrap(), after);
    assert!(!again.contains("update-grub"), "{again}");
}

#[test]
fn kickstart_commands_refuse_a_debian_site_by_its_key_and_write_nothing() {
    let dir = workdir(&debian_lab());
    for args in [
        &["build", "deb.yaml", "-o", "built"][..],
        &["iso", "deb.yaml", "--base", "base.iso", "-o", "out.iso"][..],
        &["iso", "deb.yaml", "--config-only", "-o", "oemdrv.iso"][..],
        &[
            "lab", "up", "deb.yaml", "--driver", "qemu", "--dir", "labdir",
        ][..],
    ] {
        let (code, out) = aerie().cwd(dir.path()).args(args).code_text();
        assert_eq!(code, 64, "{args:?}: {out}");
        assert!(out.contains("site.distro: debian12"), "{out}");
        assert!(out.contains("not installed by kickstart"), "{out}");
        assert!(out.contains("--config-only --cidata --node HOST"), "{out}");
        assert!(out.contains("aerie apply SITE"), "{out}");
        if args[0] == "lab" {
            assert!(out.contains("--driver qemu --image DISK"), "{out}");
        }
    }
    let left: Vec<PathBuf> = files_under(dir.path());
    assert_eq!(left, [PathBuf::from("deb.yaml")], "files were written");
}

#[test]
fn eucalyptus_install_disk_and_a_profile_without_debian_names_are_refused() {
    let lab = debian_lab();
    let euca = lab.replacen("profile: openstack", "profile: eucalyptus", 1);
    assert_ne!(euca, lab);
    let (code, out) = validate(&euca);
    assert_eq!(code, 65, "{out}");
    assert!(out.contains("site.distro"), "{out}");

    let disk = aerie::site::examples::get("lab").unwrap().replacen(
        "distro: rocky9",
        "distro: debian12",
        1,
    );
    let (code, out) = validate(&disk);
    assert_eq!(code, 65, "{out}");
    assert!(out.contains("nodes[0].install-disk"), "{out}");

    let dir = workdir(&lab);
    let profile = include_str!("../../profiles/openstack.yaml");
    let start = profile.find("  # Debian 12 ships").unwrap();
    let end = profile.find("\ncompute:").unwrap();
    let stripped = format!("{}{}", &profile[..start], &profile[end..]);
    std::fs::write(dir.path().join("p.yaml"), stripped).unwrap();
    let (code, out) = aerie()
        .cwd(dir.path())
        .args(["render", "deb.yaml", "--profile", "p.yaml", "-o", "out"])
        .code_text();
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("no `debian` part for frontend"), "{out}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn the_cidata_volume_is_a_debian_nodes_install_road() {
    let dir = workdir(&debian_lab());
    // node1's volume into OUT in `dir`, its key pinned in `kh`.
    let cidata = |dir: &Path, out: &str, extra: &[&str]| {
        aerie()
            .cwd(dir)
            .args(["iso", "deb.yaml", "--config-only", "--cidata"])
            .args(["--node", "node1", "-o", out, "--known-hosts", "kh"])
            .args(extra)
            .code_text()
    };
    let (code, out) = cidata(dir.path(), "node1.iso", &[]);
    assert_eq!(code, 0, "{out}");
    // The host key the volume installs is pinned for the SSH roads, under the
    // node's SSH address: the public half of the secrets' key, nothing else.
    let secrets = std::fs::read_to_string(dir.path().join("lab.secrets.yaml")).unwrap();
    let doc: serde_norway::Value = serde_norway::from_str(&secrets).unwrap();
    let public = doc["host-keys"]["node1"]["public"].as_str().unwrap();
    let key: Vec<&str> = public.split_whitespace().take(2).collect();
    let pins = std::fs::read_to_string(dir.path().join("kh")).unwrap();
    let addr = debian_node_address();
    assert_eq!(
        pins,
        format!(
            "{addr} {} node1's host key from aerie iso --cidata\n",
            key.join(" ")
        )
    );
    assert!(
        out.contains(&format!(
            "pinned node1's host key ({addr} ssh-ed25519 SHA256:"
        )),
        "{out}"
    );
    // Made again: the same key, pinned already; a stale pin of that address
    // is replaced and said so.
    let again = |dir: &Path| cidata(dir, "again.iso", &["--force"]);
    let (code, out) = again(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("was pinned already"), "{out}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("kh")).unwrap(),
        pins
    );
    let stale = "AAAAC3NzaC1lZDI1NTE5AAAAIHFpYXJuZXhhbXBsZWtleW9ubHlub3RyZWFsMDAwMDA=";
    std::fs::write(
        dir.path().join("kh"),
        format!("{addr} ssh-ed25519 {stale}\nother ssh-ed25519 {stale}\n"),
    )
    .unwrap();
    let (code, out) = again(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("replacing ssh-ed25519 SHA256:"), "{out}");
    let pins = std::fs::read_to_string(dir.path().join("kh")).unwrap();
    assert!(
        !pins.contains(&format!("{addr} ssh-ed25519 {stale}")),
        "{pins}"
    );
    assert!(
        pins.contains(&format!("other ssh-ed25519 {stale}")),
        "{pins}"
    );
    assert!(pins.contains(key[1]), "{pins}");
    let iso = dir.path().join("node1.iso");
    let (ok, label) = harness::tool("blkid")
        .args(["-p", "-s", "LABEL", "-o", "value"])
        .arg(&iso)
        .outcome();
    assert!(ok, "{label}");
    assert_eq!(label.trim(), "cidata");
    // The bundle on the volume regenerates GRUB the Debian way.
    let extracted = dir.path().join("user-data");
    let (ok, out) = harness::tool("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(&iso)
        .args(["-extract", "/user-data"])
        .arg(&extracted)
        .outcome();
    assert!(ok, "{out}");
    let user_data = std::fs::read_to_string(&extracted).unwrap();
    assert!(user_data.contains("update-grub"), "{user_data}");
    assert!(!user_data.contains("grubby"), "{user_data}");
}
