//! `aerie init`: the wizard on a real pseudo-terminal, the answers file, and
//! what happens without a terminal. Every test runs the real binary.

use crate::harness;
use crate::pty;

use aerie::site::{self, load, Site};
use harness::aerie;
use pty::Terminal;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const HOME_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEhvbWVLZXlGb3JBZXJpZVRlc3RzT25seTAwMDAw operator@test";
const PASTED_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFBhc3RlZEtleUZvckFlcmllVGVzdHNPbmx5MDAw admin@laptop";
const PASSWORD: &str = "correct-horse-7";
const BMC_PASSWORD: &str = "bmc-staple-9";

/// A working directory and a HOME with a fake `~/.ssh/id_ed25519.pub`, so
/// the key offer is exercised and the operator's real home is never read.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        let ssh = dir.path().join("home/.ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        std::fs::write(ssh.join("id_ed25519.pub"), format!("{HOME_KEY}\n")).unwrap();
        std::fs::create_dir(dir.path().join("work")).unwrap();
        Sandbox { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work().join(name)
    }

    /// `aerie init --answers NAME.yaml -o NAME-out.yaml` on `answers` must be refused
    /// (exit 65) naming `key`, and write nothing.
    fn refuses_answers(&self, name: &str, answers: &str, key: &str) {
        let (file, out) = (format!("{name}.yaml"), format!("{name}-out.yaml"));
        std::fs::write(self.path(&file), answers).unwrap();
        let (code, text) = self.run(&["init", "--answers", &file, "-o", &out]);
        assert_eq!(code, 65, "{text}");
        assert!(text.contains(key), "{text}");
        assert!(!self.path(&out).exists());
    }

    fn terminal(&self, args: &[&str]) -> Terminal {
        Terminal::spawn(args, &self.work(), &self.home())
    }

    /// Run aerie without a terminal (stdin null); fails the test if it has
    /// not finished by the deadline.
    fn run(&self, args: &[&str]) -> (i32, String) {
        let mut child = aerie()
            .args(args)
            .cwd(self.work())
            .env("HOME", self.home())
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let out = child.wait_with_output().unwrap();
                let text = String::from_utf8_lossy(&out.stdout).to_string()
                    + &String::from_utf8_lossy(&out.stderr);
                return (status.code().expect("exited normally"), text);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("aerie {args:?} was still running after 5 s: it must not wait for input");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The lab the wizard test types in, built here from the example site with
/// the differences the answers make.
fn expected_lab(written: &Site) -> Site {
    let mut site = load::from_str(site::examples::get("lab").unwrap(), "lab").unwrap();
    site.site.ssh_keys = vec![HOME_KEY.parse().unwrap(), PASTED_KEY.parse().unwrap()];
    // The hash has a random salt: it is checked against the password instead.
    site.site.root_password_hash = written.site.root_password_hash.clone();
    // The wizard does not ask for an SSH target: the management address is used.
    site.nodes[0].ssh = None;
    site
}

/// The site settings of the lab (openstack, the first distribution), up to the
/// SSH keys.
fn lab_site_settings(t: &mut Terminal) {
    t.choose("Cloud profile", 0);
    t.choose("Distribution installed on the nodes", 0);
    t.answer("Site name", "lab");
    t.answer("DNS domain of the site", "lab.example.org");
    t.answer("Time zone", "");
    t.answer("DNS servers", "192.0.2.53");
    t.answer("NTP servers", "0.pool.ntp.org");
}

#[test]
fn wizard_writes_a_whole_lab_and_asks_again_with_the_reason() {
    let sandbox = Sandbox::new();
    let mut t = sandbox.terminal(&["init", "-o", "lab.yaml"]);

    lab_site_settings(&mut t);
    t.expect("SSH public keys for root");
    t.expect("operator@test (~/.ssh/id_ed25519.pub)");
    t.keys("\r");
    t.answer("Paste another SSH public key", PASTED_KEY);
    t.answer("Paste another SSH public key", "");
    t.confirm("Set a root password", true);
    t.answer("Root password", PASSWORD);
    t.answer("Type it again", PASSWORD);

    // Networks: a bad CIDR and a gateway outside its subnet are asked again.
    t.answer("Network name", "");
    t.choose("Purpose of mgmt", 0);
    t.answer("Network of mgmt in CIDR notation", "10.20.0.0/33");
    t.expect("\"10.20.0.0/33\" is not a network in CIDR notation");
    t.answer("Network of mgmt in CIDR notation", "10.20.0.0/24");
    t.answer("VLAN id of mgmt", "");
    t.expect("Gateway of mgmt");
    t.answer("(10.20.0.1)", "10.30.0.1");
    t.expect("10.30.0.1 is outside 10.20.0.0/24");
    t.answer("Gateway of mgmt", "");
    t.confirm("Add another network?", true);
    t.answer("Network name", "demo-net");
    t.choose("Purpose of demo-net", 0);
    t.answer("Network of demo-net in CIDR notation", "10.44.1.0/24");
    t.answer("VLAN id of demo-net", "101");
    t.answer("Gateway of demo-net", "");
    t.expect("DHCP range for instances on demo-net");
    t.answer("(10.44.1.10-10.44.1.200)", "");
    t.confirm("Add another network?", true);
    t.answer("Network name", "demo2-net");
    t.choose("Purpose of demo2-net", 0);
    t.answer("Network of demo2-net in CIDR notation", "10.44.2.0/24");
    t.answer("VLAN id of demo2-net", "101");
    t.expect("VLAN 101 is already used by networks[1]");
    t.answer("VLAN id of demo2-net", "102");
    t.answer("Gateway of demo2-net", "");
    t.answer("DHCP range for instances on demo2-net", "");
    t.confirm("Add another network?", false);

    // Nodes: defaults for names, roles and the next free address.
    for (i, (host, mac, on_demo, on_demo2)) in [
        ("fe1", "52:54:00:00:00:10", true, false),
        ("node1", "52:54:00:00:00:11", true, false),
        ("node2", "52:54:00:00:00:12", false, true),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            t.confirm("Add another node?", true);
        }
        t.expect("Host name");
        t.answer(&format!("({host})"), "");
        t.answer(&format!("Role of {host}"), "");
        t.answer(&format!("Disk to install {host} on"), "");
        t.answer(&format!("Management device of {host}"), "");
        t.answer("MAC address of that device", mac);
        t.expect(&format!("Address of {host} on mgmt"));
        t.answer(&format!("(10.20.0.1{i})"), "");
        t.confirm(&format!("Attach {host} to demo-net"), on_demo);
        if on_demo {
            t.answer(&format!("Device of {host} on demo-net"), "");
        }
        t.confirm(&format!("Attach {host} to demo2-net"), on_demo2);
        if on_demo2 {
            t.answer(&format!("Device of {host} on demo2-net"), "");
        }
        // node1 has a BMC: a path in its address is refused with the reason.
        t.confirm(&format!("Manage {host} through its BMC"), host == "node1");
        if host == "node1" {
            t.answer("BMC address of node1", "https://10.20.1.11/redfish");
            t.expect("it has a path, a query or a user part");
            t.answer("BMC address of node1", "10.20.1.11");
            t.answer("BMC user", "");
            t.answer("Redfish system id", "");
            t.answer("TLS certificate fingerprint to pin", "");
        }
    }
    t.confirm("Add another node?", false);

    // Features.
    t.choose("IOMMU", 0);
    t.confirm("Set up SR-IOV", true);
    t.choose("SR-IOV driver", 0);
    t.answer("Number of virtual functions (1-126)", "500");
    t.expect("mlx4_core allows 1 to 126 virtual functions, not 500");
    t.answer("Number of virtual functions (1-126)", "16");
    t.answer("Virtual functions the host itself binds", "0");
    t.confirm("Add a PCI passthrough alias?", true);
    t.answer("Passthrough alias", "ib-vf");
    t.answer("PCI vendor id", "15b3");
    t.answer("PCI product id", "1004");
    t.confirm("Add another PCI passthrough alias?", false);
    t.confirm("Create a flavor", true);
    t.answer("Flavor name", "m1.ib");
    t.answer("Flavor vCPUs", "");
    t.answer("Flavor RAM in MB", "");
    t.answer("Flavor disk in GB", "");
    t.answer("Passthrough devices per instance", "");
    t.confirm("Redirect the metadata address", true);
    t.confirm("Turn on nested KVM", true);
    t.confirm("Boot the nodes from the network", false);
    // The BMC password, typed hidden, twice.
    t.answer("BMC password of node1 (admin at 10.20.1.11", BMC_PASSWORD);
    t.answer("Type it again", BMC_PASSWORD);

    // Review, with the hash elided, then write.
    t.expect("root-password-hash");
    t.expect(aerie::wizard::review::ELIDED);
    t.confirm("Write this site to lab.yaml?", true);
    t.expect("wrote lab.yaml");
    let seen = t.seen().to_string();
    assert_eq!(t.exit_code(), 0);
    assert!(!seen.contains(PASSWORD), "the password was echoed");
    assert!(!seen.contains("$6$"), "the hash was shown");

    let path = sandbox.path("lab.yaml");
    assert_eq!(mode(&path), 0o600);
    let (code, report) = sandbox.run(&["validate", "lab.yaml"]);
    assert_eq!(code, 0, "{report}");
    let written = site::load_file(&path).unwrap();
    let hash = written.site.root_password_hash.as_ref().expect("a hash");
    assert!(hash.matches(PASSWORD));
    assert!(!hash.matches("wrong"));
    let mut written = written;
    let bmc = written.nodes[1].bmc.take().expect("node1's bmc");
    assert_eq!(bmc.address.base_url(), "https://10.20.1.11:443");
    assert_eq!(bmc.user.as_str(), "admin");
    assert_eq!(written, expected_lab(&written));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(PASSWORD));
    // The BMC password is only in the secrets file beside the site, 0600.
    assert!(!seen.contains(BMC_PASSWORD), "the BMC password was echoed");
    assert!(!text.contains(BMC_PASSWORD));
    let secrets_path = sandbox.path("lab.secrets.yaml");
    assert_eq!(mode(&secrets_path), 0o600);
    let secrets = aerie::site::secrets::read(&secrets_path).unwrap();
    assert_eq!(
        secrets.bmc_password("node1").unwrap().expose(),
        BMC_PASSWORD
    );
    // The untagged mgmt network has no vlan key at all (not `vlan: null`).
    assert!(!text.contains("null"), "{text}");
    assert_eq!(text.matches("vlan:").count(), 2, "{text}");
}

/// With no key picked from ~/.ssh, the first paste prompt does not say
/// "another"; after one key is pasted it does.
#[test]
fn the_first_pasted_key_is_not_called_another() {
    let sandbox = Sandbox::new();
    let mut t = sandbox.terminal(&["init", "-o", "lab.yaml"]);
    lab_site_settings(&mut t);
    t.expect("operator@test (~/.ssh/id_ed25519.pub)");
    // Space unpicks the offered key; enter accepts the (empty) choice.
    t.keys(" \r");
    t.answer("Paste an SSH public key for root", PASTED_KEY);
    t.answer("Paste another SSH public key", "");
    t.expect("Set a root password");
    let seen = t.seen().to_string();
    let first = seen.find("Paste an SSH public key for root").unwrap();
    assert!(
        !seen[..first].contains("Paste another"),
        "\"another\" before any key:\n{seen}"
    );
}

#[test]
fn without_a_terminal_it_exits_at_once_and_says_what_to_give() {
    let sandbox = Sandbox::new();
    let (code, text) = sandbox.run(&["init"]);
    assert_eq!(code, 64, "{text}");
    assert!(text.contains("--answers FILE"), "{text}");
    assert!(text.contains("--example lab"), "{text}");
    assert!(!sandbox.path("site.yaml").exists());
    let (code, text) = sandbox.run(&["init", "--edit", "missing.yaml"]);
    assert_ne!(code, 0, "{text}");
}

#[test]
fn answers_with_missing_values_list_them_all_and_write_nothing() {
    let sandbox = Sandbox::new();
    std::fs::write(
        sandbox.path("answers.yaml"),
        "site:\n  name: lab\nnetworks:\n  - name: mgmt\n    purpose: management\nnodes:\n  - hostname: fe1\n    role: frontend\n    interfaces: [{network: mgmt, device: eth0, address: 10.20.0.10}]\n  - hostname: node1\n",
    )
    .unwrap();
    let (code, text) = sandbox.run(&["init", "--answers", "answers.yaml", "-o", "site.yaml"]);
    assert_eq!(code, 65, "{text}");
    for key in [
        "site.domain",
        "site.profile",
        "site.distro",
        "networks[0].cidr",
        "nodes[1].role",
        "nodes[1].interfaces",
    ] {
        assert!(
            text.contains(&format!("error: {key}: ")),
            "{key} not listed:\n{text}"
        );
    }
    assert!(!sandbox.path("site.yaml").exists());
}

#[test]
fn answers_are_checked_like_validate_and_defaults_fill_the_rest() {
    let sandbox = Sandbox::new();
    let mut lab = load::from_str(site::examples::get("lab").unwrap(), "lab").unwrap();
    let complete = load::to_yaml(&lab).replace("  timezone: UTC\n", "");
    std::fs::write(sandbox.path("answers.yaml"), &complete).unwrap();
    let (code, text) = sandbox.run(&["init", "--answers", "answers.yaml"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(mode(&sandbox.path("site.yaml")), 0o600);
    lab.site.timezone = "UTC".parse().unwrap();
    assert_eq!(site::load_file(&sandbox.path("site.yaml")).unwrap(), lab);

    let bad = complete.replace("gateway: 10.44.1.1", "gateway: 10.99.1.1");
    sandbox.refuses_answers("bad", &bad, "networks[1].gateway");
    let typo = complete.replace("nested-kvm:", "nested-kvn:");
    sandbox.refuses_answers("typo", &typo, "features.nested-kvn");
}

#[test]
fn answers_give_bmc_passwords_to_the_secrets_file_only() {
    let sandbox = Sandbox::new();
    let euca = site::examples::get("eucalyptus").unwrap();
    let answers = euca.replacen(
        "      user: admin\n      tls-fingerprint",
        &format!("      user: admin\n      password: \"{BMC_PASSWORD}\"\n      tls-fingerprint"),
        1,
    );
    assert_ne!(answers, euca);
    std::fs::write(sandbox.path("answers.yaml"), &answers).unwrap();
    let (code, text) = sandbox.run(&["init", "--answers", "answers.yaml", "-o", "euca.yaml"]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains(BMC_PASSWORD), "{text}");
    let written = std::fs::read_to_string(sandbox.path("euca.yaml")).unwrap();
    assert!(!written.contains(BMC_PASSWORD) && written.contains("https://10.30.1.10"));
    let path = sandbox.path("euca.secrets.yaml");
    assert_eq!(mode(&path), 0o600);
    let secrets = aerie::site::secrets::read(&path).unwrap();
    assert_eq!(secrets.bmc_password("clc").unwrap().expose(), BMC_PASSWORD);
    assert!(secrets.bmc_password("nc1").is_none());

    // A password for a node without a BMC is named, and nothing is written.
    let stray = answers.replacen(
        "  - hostname: nc2\n    role: compute\n    install-disk: nvme0n1\n    bmc:\n",
        "  - hostname: nc2\n    role: compute\n    install-disk: nvme0n1\n    x-bmc:\n",
        1,
    );
    assert_ne!(stray, answers);
    sandbox.refuses_answers("stray", &stray, "nodes[2].x-bmc");
}

#[test]
fn an_existing_output_is_refused_without_force_and_left_unchanged() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("site.yaml");
    std::fs::write(&path, "keep me\n").unwrap();
    std::fs::write(
        sandbox.path("answers.yaml"),
        site::examples::get("lab").unwrap(),
    )
    .unwrap();
    for args in [
        &["init", "--example", "lab"][..],
        &["init", "--answers", "answers.yaml"][..],
        &["init"][..],
    ] {
        let (code, text) = sandbox.run(args);
        assert_eq!(code, 73, "{args:?}: {text}");
        assert!(text.contains("--force"), "{text}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me\n");
    }
    // On a terminal too, before a single question.
    let mut t = sandbox.terminal(&["init"]);
    t.expect("already exists");
    assert_eq!(t.exit_code(), 73);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me\n");

    let (code, text) = sandbox.run(&["init", "--example", "lab", "--force"]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        site::load_file(&path).unwrap(),
        load::from_str(site::examples::get("lab").unwrap(), "lab").unwrap()
    );
}

#[test]
fn edit_with_enter_throughout_keeps_the_site() {
    let sandbox = Sandbox::new();
    let (code, text) = sandbox.run(&["init", "--example", "lab"]);
    assert_eq!(code, 0, "{text}");
    let path = sandbox.path("site.yaml");
    let before = site::load_file(&path).unwrap();

    // In place: no -o and no --force needed.
    let mut t = sandbox.terminal(&["init", "--edit", "site.yaml"]);
    let mut prompts = 0;
    while t.expect_any(&["›", "wrote site.yaml"]) == 0 {
        prompts += 1;
        assert!(prompts < 500, "too many prompts:\n{}", t.seen());
        t.keys("\r");
    }
    assert!(t.seen().contains("Keep the current root password?"));
    assert!(
        t.seen().contains("~/.ssh/id_ed25519.pub"),
        "the operator's key is offered"
    );
    assert_eq!(t.exit_code(), 0);
    assert!(
        prompts > 40,
        "only {prompts} prompts: were the sections skipped?"
    );
    assert_eq!(site::load_file(&path).unwrap(), before);
    assert_eq!(mode(&path), 0o600);
}

/// Debian 12 is offered with OpenStack (not with Eucalyptus, which ships EL
/// packages only), and its nodes are not asked for a disk to install to.
#[test]
fn wizard_offers_debian12_and_asks_no_install_disk() {
    let sandbox = Sandbox::new();
    let mut t = sandbox.terminal(&["init", "-o", "deb.yaml"]);
    t.choose("Cloud profile", 0);
    t.expect("debian12 (installed outside aerie");
    t.choose("", 3);
    t.answer("Site name", "deb");
    t.answer("DNS domain of the site", "deb.example.org");
    t.answer("Time zone", "");
    t.answer("DNS servers", "192.0.2.53");
    t.answer("NTP servers", "0.pool.ntp.org");
    t.expect("operator@test (~/.ssh/id_ed25519.pub)");
    t.keys("\r");
    t.answer("Paste another SSH public key", "");
    t.confirm("Set a root password", false);
    t.answer("Network name", "");
    t.choose("Purpose of mgmt", 0);
    t.answer("Network of mgmt in CIDR notation", "10.20.0.0/24");
    t.answer("VLAN id of mgmt", "");
    t.answer("Gateway of mgmt", "10.20.0.1");
    t.confirm("Add another network?", false);
    for (i, host) in ["fe1", "node1"].into_iter().enumerate() {
        if i > 0 {
            t.confirm("Add another node?", true);
        }
        t.expect("Host name");
        t.answer(&format!("({host})"), "");
        t.answer(&format!("Role of {host}"), "");
        let next = t.expect_any(&[&format!("Disk to install {host} on"), "Management device"]);
        assert_eq!(next, 1, "a Debian node was asked for an install disk");
        t.keys("\r");
        t.answer("MAC address of that device", "");
        t.expect(&format!("Address of {host} on mgmt"));
        t.keys("\r");
        t.confirm(&format!("Manage {host} through its BMC"), false);
    }
    t.confirm("Add another node?", false);
    t.choose("IOMMU", 0);
    t.confirm("Set up SR-IOV", false);
    t.confirm("Redirect the metadata address", true);
    t.confirm("Turn on nested KVM", true);
    t.confirm("Write this site to deb.yaml?", true);
    t.expect("wrote deb.yaml");
    assert_eq!(t.exit_code(), 0);
    let written = site::load_file(&sandbox.path("deb.yaml")).unwrap();
    assert_eq!(written.site.distro.as_str(), "debian12");
    assert!(written.nodes.iter().all(|n| n.install_disk.is_none()));
    let (code, report) = sandbox.run(&["validate", "deb.yaml"]);
    assert_eq!(code, 0, "{report}");

    let mut t = sandbox.terminal(&["init", "-o", "euca.yaml"]);
    t.choose("Cloud profile", 1);
    t.choose("centos-stream9", 0);
    t.expect("Site name");
    assert!(!t.seen().contains("debian12"), "{}", t.seen());
}
