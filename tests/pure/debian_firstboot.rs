//! A Debian 12 frontend gets the same first boot as an EL one: the kolla
//! example switched to debian12, its cidata volume (`aerie iso --config-only
//! --cidata`) carries the site, Kolla's passwords (0600), the render-time
//! keys and `aerie-deploy.service` byte for byte as the EL frontend's
//! kickstart writes it (`aerie iso --config-only`, OEMDRV), and its
//! first-boot script enables the unit after a converge. Checked by
//! cloud-init's own schema validator and the real `systemd-analyze verify`;
//! the unit's run on a booted Debian 12 image is tests/root/debian_firstboot.rs.

use crate::harness::{aerie, tool};
use crate::heredoc::heredoc;
use crate::iso_fixtures::read_file;

use serde_json::Value;
use std::path::Path;

/// A built-in example as a Debian 12 site (install-disk is kickstart-only).
pub fn as_debian(example: &str) -> String {
    let text = aerie::site::examples::get(example)
        .unwrap()
        .replacen("distro: rocky9", "distro: debian12", 1)
        .replace("    install-disk: sda\n", "");
    assert!(!text.contains("install-disk") && text.contains("debian12"));
    text
}

const SECRETS: &str = "tests/golden/kolla/kolla.secrets.yaml";

/// A work dir holding `deb.yaml` (the site) and `deb.secrets.yaml` (the
/// golden kolla secrets: keys for every node, Kolla's passwords).
fn workdir(site: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deb.yaml"), site).unwrap();
    let secrets = dir.path().join("deb.secrets.yaml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(SECRETS),
        &secrets,
    )
    .unwrap();
    std::fs::set_permissions(
        &secrets,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    dir
}

/// `user-data` of `host`'s cidata volume (no binary), as JSON, and its text.
fn user_data(dir: &Path, site: &str, host: &str) -> (Value, String) {
    let iso = dir.join(format!("{host}.iso"));
    aerie()
        .cwd(dir)
        .args(["iso", site, "--config-only", "--cidata", "--node", host])
        .args(["--secrets", "deb.secrets.yaml", "--no-binary", "--force"])
        .args(["--known-hosts", "known_hosts", "-o"])
        .arg(&iso)
        .run();
    let text = read_file(&iso, "/user-data", dir).unwrap();
    let json = text.strip_prefix("#cloud-config\n").expect("#cloud-config");
    (serde_json::from_str(json).unwrap(), text)
}

/// The write_files entry for `path`: (permissions, content).
fn written<'a>(v: &'a Value, path: &str) -> Option<(&'a str, &'a str)> {
    v["write_files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .map(|f| {
            (
                f["permissions"].as_str().unwrap(),
                f["content"].as_str().unwrap(),
            )
        })
}

/// cloud-init's own schema check of a user-data text.
fn schema_valid(dir: &Path, name: &str, text: &str) {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    let (ok, said) = tool("cloud-init")
        .args(["schema", "-c"])
        .arg(&file)
        .outcome();
    assert!(ok && said.contains("Valid cloud-config"), "{name}: {said}");
}

/// `systemd-analyze verify` on a unit text: whether it passed, what it said.
fn verify(dir: &Path, name: &str, text: &str) -> (bool, String) {
    let units = dir.join("units");
    std::fs::create_dir_all(&units).unwrap();
    let file = units.join(name);
    std::fs::write(&file, text).unwrap();
    tool("systemd-analyze").arg("verify").arg(&file).outcome()
}

#[test]
fn a_debian_kolla_frontends_volume_carries_the_el_kickstarts_first_boot() {
    let dir = workdir(&as_debian("kolla"));
    let (fe, fe_text) = user_data(dir.path(), "deb.yaml", "fe1");
    schema_valid(dir.path(), "fe1.user-data", &fe_text);

    // The EL frontend's kickstart of the same site (rocky9), same secrets.
    let el = as_debian("kolla").replacen("distro: debian12", "distro: rocky9", 1);
    std::fs::write(dir.path().join("el.yaml"), el).unwrap();
    let oemdrv = dir.path().join("el.iso");
    aerie()
        .cwd(dir.path())
        .args(["iso", "el.yaml", "--config-only", "--node", "fe1"])
        .args(["--secrets", "deb.secrets.yaml", "--no-binary", "-o"])
        .arg(&oemdrv)
        .run();
    let ks = read_file(&oemdrv, "/ks.cfg", dir.path()).unwrap();

    // Files: the same paths, modes and content on both roads (the site file
    // differs only in its distro line); private ones 0600.
    let unit = "/etc/systemd/system/aerie-deploy.service";
    for (path, mode) in [
        ("/etc/aerie/site.secrets.yaml", "0o600"),
        ("/root/.ssh/id_ed25519", "0o600"),
        ("/root/.ssh/id_ed25519.pub", "0o644"),
        ("/etc/aerie/known_hosts", "0o644"),
        ("/root/.ssh/known_hosts", "0o644"),
        (unit, "0o644"),
    ] {
        let (got_mode, content) =
            written(&fe, path).unwrap_or_else(|| panic!("fe1's volume has no {path}"));
        assert_eq!(got_mode, mode, "{path}");
        assert_eq!(content, heredoc(&ks, path), "{path}: the roads differ");
    }
    let (mode, site) = written(&fe, "/etc/aerie/site.yaml").unwrap();
    assert_eq!(mode, "0o600");
    assert_eq!(
        site.replacen("distro: debian12", "distro: rocky9", 1),
        heredoc(&ks, "/etc/aerie/site.yaml")
    );
    let (_, passwords) = written(&fe, "/etc/aerie/site.secrets.yaml").unwrap();
    assert!(passwords.contains("keystone_admin_password: golden-test-not-secret"));

    // The unit: real systemd-analyze has nothing to say; it needs the binary
    // where the volume's script installs it, and runs until the site is deployed.
    let (_, unit_text) = written(&fe, unit).unwrap();
    let (ok, said) = verify(dir.path(), "aerie-deploy.service", unit_text);
    assert!(
        ok && said.trim().is_empty(),
        "systemd-analyze verify: {said}"
    );
    assert!(unit_text.contains("\nConditionPathExists=/usr/local/sbin/aerie\n"));
    assert!(unit_text.contains("\nConditionPathExists=!/var/lib/aerie/deployed\n"));
    assert!(unit_text.contains(
        "/usr/local/sbin/aerie deploy --local /etc/aerie/site.yaml --secrets /etc/aerie/site.secrets.yaml "
    ));

    // Root authorizes the frontend's own key (it deploys itself over SSH)
    // besides the site's keys; the host key is the render-time one.
    let (_, public) = written(&fe, "/root/.ssh/id_ed25519.pub").unwrap();
    let keys: Vec<&str> = fe["users"][0]["ssh_authorized_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert!(keys.contains(&public.trim_end()), "{keys:?}");
    assert!(fe["ssh_keys"]["ed25519_private"].is_string());

    // What the Debian frontend installs first: the venv, git and the SSH
    // client the deploy needs (profiles/kolla.yaml, frontend.debian).
    let packages: Vec<&str> = fe["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for p in [
        "python3",
        "python3-venv",
        "git",
        "openssh-client",
        "python3-openstackclient",
    ] {
        assert!(packages.contains(&p), "{p}: {packages:?}");
    }

    // The script enables the unit only after a converge succeeded: started
    // now without waiting when no reboot is due, else left for the boot after.
    let (_, script) = written(&fe, "/var/lib/aerie/first-boot").unwrap();
    let converged = script.find("echo 'aerie: converged on").unwrap();
    let enable = script
        .find("if systemctl enable aerie-deploy.service; then")
        .unwrap();
    let failed = script.find("stop \"converge FAILED").unwrap();
    assert!(converged < enable && enable < failed, "{script}");
    assert!(script.contains(
        "if [ -e /run/aerie/reboot-required ]; then echo 'aerie: aerie-deploy.service enabled: aerie deploy --local runs after the reboot"
    ));
    assert!(script.contains(
        "elif systemctl start --no-block aerie-deploy.service; then echo 'aerie: aerie-deploy.service enabled and started"
    ));
    // Nothing secret is in the script (its lines reach the console).
    for secret in ["golden-test-not-secret", "PRIVATE KEY"] {
        assert!(
            !script.contains(secret),
            "{secret} in the first-boot script"
        );
    }

    // A compute node: the frontend's key authorized, no unit, no site, no key of the frontend.
    let (node, node_text) = user_data(dir.path(), "deb.yaml", "node1");
    schema_valid(dir.path(), "node1.user-data", &node_text);
    let keys = node["users"][0]["ssh_authorized_keys"].as_array().unwrap();
    assert!(keys.iter().any(|k| k == public.trim_end()), "{keys:?}");
    for path in [
        unit,
        "/etc/aerie/site.yaml",
        "/etc/aerie/site.secrets.yaml",
        "/root/.ssh/id_ed25519",
    ] {
        assert!(written(&node, path).is_none(), "node1 gets {path}");
    }
    let (_, script) = written(&node, "/var/lib/aerie/first-boot").unwrap();
    assert!(!script.contains("systemctl enable"), "{script}");
}

#[test]
fn a_debian_openstack_frontend_registers_after_debians_services() {
    let dir = workdir(&as_debian("lab"));
    let (v, text) = user_data(dir.path(), "deb.yaml", "fe1");
    schema_valid(dir.path(), "fe1.user-data", &text);
    let (mode, unit) = written(&v, "/etc/systemd/system/aerie-register.service").unwrap();
    assert_eq!(mode, "0o644");
    // Debian's unit names (nova-api), not RDO's (openstack-nova-api).
    assert!(unit.contains(" nova-api.service"), "{unit}");
    assert!(!unit.contains("openstack-nova"), "{unit}");
    // systemd-analyze knows the unit; its one complaint is that aerie is not
    // installed on this machine (the unit's condition on the node).
    let (_, said) = verify(dir.path(), "aerie-register.service", unit);
    let complaint = "aerie-register.service: Command /usr/local/sbin/aerie is not executable: No such file or directory";
    assert!(
        said.lines().all(|l| l.trim().is_empty() || l == complaint),
        "systemd-analyze verify: {said}"
    );
    let (_, script) = written(&v, "/var/lib/aerie/first-boot").unwrap();
    assert!(script.contains("if systemctl enable aerie-register.service; then"));
}
