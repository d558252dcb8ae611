//! `aerie deploy` on real sshd test hosts: the hosts step (the SSH road),
//! the kolla step through a RECORDING STAND-IN for kolla-ansible (Kolla's
//! deploy needs container images that cannot be fetched here: no container is
//! started, no Kolla playbook runs; the stand-in records each invocation and
//! answers with Ansible's jsonl callback lines, failing a task when told),
//! and the resume command a failed step prints.

use crate::apply_support::{known_hosts_copy, lab_aerie, write_site};
use crate::kolla_firstboot_support::kolla_site as site;
use crate::kolla_standin::standin_venv;
use crate::testbed::Testbed;
use std::path::PathBuf;
use std::process::Output;

struct Run<'a> {
    tb: &'a Testbed,
    site: PathBuf,
    kh: PathBuf,
    venv: PathBuf,
    log: PathBuf,
}

/// The admin password in the stand-in's admin-openrc.sh.
const SECRET: &str = "openrc-s3cret-7f3a";

impl Run<'_> {
    fn deploy(&self, extra: &[&str], fail: &str) -> Output {
        self.deploy_with(extra, fail, SECRET)
    }

    /// [`Run::deploy`], post-deploy writing `secret` as the admin password
    /// (no credentials at all when it is empty).
    fn deploy_with(&self, extra: &[&str], fail: &str, secret: &str) -> Output {
        lab_aerie(self.tb, "deploy", &self.site, &self.kh)
            .arg("--kolla-venv")
            .arg(&self.venv)
            .args(extra)
            .env("STANDIN_LOG", &self.log)
            .env("STANDIN_FAIL", fail)
            .env("STANDIN_SECRET", secret)
            .output()
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn text(out: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn deploy_with_a_recording_kolla_ansible_stand_in_names_the_failed_task_and_resumes() {
    let tb = Testbed::new(2).expect("testbed");
    let site = write_site(&tb, &site(&tb));
    let run = Run {
        tb: &tb,
        kh: known_hosts_copy(&tb),
        venv: standin_venv(tb.dir()),
        log: tb.dir().join("kolla-ansible-calls"),
        site,
    };
    let config = tb.dir().join("kdeploy-kolla");

    // 1. From the start; Kolla's deploy fails a task.
    let out = run.deploy(&[], "deploy");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    for words in [
        "step 1/4 hosts",
        "step 2/4 kolla",
        "kolla-ansible deploy failed",
        "play:  Apply role nova",
        "task:  nova : Running Nova bootstrap container",
        "host:  host1",
        "kolla: Container exited with non-zero return code 1",
        "resume with:",
    ] {
        assert!(said.contains(words), "{words:?} not in\n{said}");
    }
    let resume = said
        .lines()
        .skip_while(|l| !l.contains("resume with:"))
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert!(
        resume.starts_with("aerie deploy ") && resume.ends_with(" --step kolla"),
        "{resume}"
    );
    let inputs = format!(
        "-i {0}/inventory --configdir {0} --passwords {0}/passwords.yml",
        config.display()
    );
    assert_eq!(
        run.calls(),
        [
            "ansible.posix.jsonl install-deps".to_string(),
            format!("ansible.posix.jsonl bootstrap-servers {inputs}"),
            format!("ansible.posix.jsonl prechecks {inputs}"),
            format!("ansible.posix.jsonl deploy {inputs}"),
        ],
        "{said}"
    );
    assert!(
        !said.contains("step 3/4"),
        "nothing after the failed step\n{said}"
    );
    let passwords = std::fs::read_to_string(config.join("passwords.yml")).unwrap();
    for f in ["inventory", "globals.yml", "host_vars/host2.yml"] {
        assert!(config.join(f).is_file(), "{f} not in {}", config.display());
    }
    let admin = passwords
        .lines()
        .find_map(|l| l.strip_prefix("keystone_admin_password: "))
        .unwrap();
    assert!(!said.contains(admin), "a Kolla password was printed");

    // 2. Resume at kolla: all five subcommands; then networks, whose frontend
    //    has no cloud here: it fails and says how to resume there.
    std::fs::remove_file(&run.log).unwrap();
    let out = run.deploy(&["--step", "kolla"], "");
    let said = text(&out);
    assert!(!said.contains("step 1/4"), "{said}");
    assert!(
        said.contains("kolla inputs: ") && said.contains(" unchanged"),
        "{said}"
    );
    let subs: Vec<String> = run
        .calls()
        .iter()
        .map(|c| c.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    assert_eq!(
        subs,
        [
            "install-deps",
            "bootstrap-servers",
            "prechecks",
            "deploy",
            "post-deploy"
        ],
        "{said}"
    );
    // post-deploy's admin credentials went to the frontend before networks.
    assert!(
        said.contains("admin-openrc.sh: delivered ") && !said.contains(SECRET),
        "{said}"
    );
    assert!(said.contains("step 3/4 networks"), "{said}");
    assert!(said.contains("--step networks"), "{said}");

    // 3. A rerun from the start changes nothing on the hosts or the inputs.
    let before = std::fs::read(config.join("globals.yml")).unwrap();
    let out = run.deploy(&["--output", "json"], "deploy");
    let said = text(&out);
    assert!(said.contains(" unchanged"), "{said}");
    // The hosts step's report (`aerie apply --output json`): nothing to do.
    let report: serde_json::Value = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<serde_json::Value>()
        .next()
        .expect("the hosts step's JSON report")
        .unwrap();
    for h in ["host1", "host2"] {
        assert_eq!(crate::apply_support::status(&report, h), "ok", "{said}");
    }
    assert!(said.contains("kolla-ansible deploy failed"), "{said}");
    assert_eq!(std::fs::read(config.join("globals.yml")).unwrap(), before);
    tb.teardown().unwrap();
}

/// Every host's changed files, leaving out what the stand-ins themselves
/// record (their call logs), which is not the deploy's doing.
fn hosts_snapshot(tb: &Testbed) -> Vec<Vec<String>> {
    tb.hosts()
        .iter()
        .map(|h| {
            crate::apply_support::snapshot(h)
                .into_iter()
                .filter(|l| !l.starts_with("var/log/aerie-standin"))
                .collect()
        })
        .collect()
}

#[test]
fn deploy_check_says_what_would_change_and_writes_nothing_anywhere_standin() {
    use crate::register_support::{install_cloud_standins, write_state};
    let tb = Testbed::new(2).expect("testbed");
    let fe = tb.host(1);
    install_cloud_standins(fe);
    // The stand-in cloud lists host2's nova-compute up (register's step 2 below).
    let cloud = crate::register_support::cloud_state(&tb, &[]);
    write_state(fe, &cloud);
    // Kolla's admin credentials as a deploy delivers them: the networks
    // step's check needs them before anything is deployed.
    fe.exec_ok(
        "mkdir -p /etc/kolla && printf 'export OS_AUTH_URL=http://10.44.1.1:5000/v3\\n' > /etc/kolla/admin-openrc.sh",
    );
    // Nested KVM on: the compute host has a file to get from the hosts step.
    let text_of_site = || site(&tb).replace("nodes:\n", "features:\n  nested-kvm: true\nnodes:\n");
    let site_path = write_site(&tb, &text_of_site());
    let run = Run {
        tb: &tb,
        kh: known_hosts_copy(&tb),
        venv: standin_venv(tb.dir()),
        log: tb.dir().join("kolla-ansible-calls"),
        site: site_path,
    };
    let config = tb.dir().join("kdeploy-kolla");
    let secrets = tb.dir().join("kdeploy.secrets.yaml");
    let kh_before = std::fs::read(&run.kh).unwrap();
    let hosts_before = hosts_snapshot(&tb);

    // 1. Nothing deployed yet: every step says what it would do.
    let out = run.deploy(&["--check"], "");
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    for words in [
        "step 1/4 hosts (check)",
        // apply --check --diff: the file the compute host would get, as a diff.
        "host2          would change",
        "+options kvm_intel nested=1",
        "step 2/4 kolla (check)",
        "would be written; Kolla's passwords would be made (kolla-genpwd)",
        "would run: ",
        "kolla-ansible bootstrap-servers -i ",
        "kolla-ansible post-deploy -i ",
        "would deliver ",
        "/admin-openrc.sh to host1 (",
        "step 3/4 networks (check)",
        "demo-net       missing (--check)",
        "step 4/4 register (check)",
        "register changes the cloud and has no check; skipped",
    ] {
        assert!(said.contains(words), "{words:?} not in\n{said}");
    }
    // Nothing written anywhere: not on the hosts, not here, no Kolla run.
    assert_eq!(hosts_snapshot(&tb), hosts_before);
    assert!(!config.exists(), "the config dir was written");
    assert!(!secrets.exists(), "the secrets file was written");
    assert_eq!(std::fs::read(&run.kh).unwrap(), kh_before);
    assert!(run.calls().is_empty(), "{:?}", run.calls());
    assert_eq!(crate::register_support::read_state(fe), cloud);

    // 2. Deployed (kolla-ansible the stand-in, networks and register on the
    //    fake cloud): a check finds nothing to do.
    let out = run.deploy(&[], "");
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let calls = run.calls().len();
    let hosts_before = hosts_snapshot(&tb);
    let config_before = std::fs::read(config.join("globals.yml")).unwrap();
    let out = run.deploy(&["--check", "--output", "json"], "");
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("kolla inputs: ") && said.contains(" unchanged"),
        "{said}"
    );
    assert!(!said.contains("would write "), "{said}");
    assert!(
        said.contains("admin-openrc.sh: host1 (")
            && said.contains(":/etc/kolla/admin-openrc.sh unchanged"),
        "{said}"
    );
    assert!(!said.contains("would deliver"), "{said}");
    let report: serde_json::Value = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<serde_json::Value>()
        .next()
        .unwrap()
        .unwrap();
    for h in ["host1", "host2"] {
        assert_eq!(crate::apply_support::status(&report, h), "ok", "{said}");
    }
    assert!(said.contains("\"status\": \"present\""), "{said}");
    assert_eq!(hosts_snapshot(&tb), hosts_before);
    assert_eq!(
        std::fs::read(config.join("globals.yml")).unwrap(),
        config_before
    );
    assert_eq!(run.calls().len(), calls, "a check ran kolla-ansible");

    // 3. The site changes its VLAN: the check names the Kolla input that would
    //    change, writes nothing.
    std::fs::write(&run.site, text_of_site().replace("vlan: 101", "vlan: 102")).unwrap();
    let out = run.deploy(&["--check", "--step", "kolla"], "");
    let said = text(&out);
    assert!(
        said.contains(&format!(
            "would write {}/config/neutron/ml2_conf.ini (changed)",
            config.display()
        )),
        "{said}"
    );
    assert_eq!(
        std::fs::read(config.join("globals.yml")).unwrap(),
        config_before
    );
    assert_eq!(hosts_snapshot(&tb), hosts_before);
    tb.teardown().unwrap();
}

/// The frontend's `path`: bytes, mode, owner, inode and mtime, read inside the
/// host (its own mount namespace: what sshd's sessions see).
fn on_host(fe: &crate::apply_support::TestHost, path: &str) -> (String, String) {
    let stat = fe.exec_ok(&format!("stat -c '%a %u:%g %i %Y.%y' {path}"));
    (fe.exec_ok(&format!("cat {path}")), stat.trim().to_string())
}

#[test]
fn deploy_from_the_operators_machine_delivers_kollas_admin_credentials_to_the_frontend_standin() {
    use crate::register_support::{install_cloud_standins, read_state, write_state};
    let tb = Testbed::new(2).expect("testbed");
    let fe = tb.host(1);
    install_cloud_standins(fe);
    write_state(fe, &crate::register_support::cloud_state(&tb, &[]));
    let run = Run {
        tb: &tb,
        kh: known_hosts_copy(&tb),
        venv: standin_venv(tb.dir()),
        log: tb.dir().join("kolla-ansible-calls"),
        site: write_site(&tb, &site(&tb)),
    };
    let config = tb.dir().join("kdeploy-kolla");
    let rc = "/etc/kolla/admin-openrc.sh";
    assert!(fe.exec(&format!("test -e {rc}")).status.code() == Some(1));

    // 1. Deployed from here (not --local): post-deploy wrote the credentials
    //    into the config dir here; the frontend has them at the profile's
    //    credentials path, 0600 root:root, the same bytes, and the networks
    //    and register steps (sourcing that file on the frontend) succeed.
    let out = run.deploy(&[], "");
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let here = std::fs::read_to_string(config.join("admin-openrc.sh")).unwrap();
    assert!(here.contains(SECRET), "{here}");
    let (there, stat) = on_host(fe, rc);
    assert_eq!(there, here);
    assert!(stat.starts_with("600 0:0 "), "{stat}");
    for words in [
        "deliver 6/6 admin-openrc.sh: host1 (",
        &format!(
            "admin-openrc.sh: delivered {}/admin-openrc.sh to host1 (",
            config.display()
        ),
        "step 3/4 networks",
        "step 4/4 register",
        "aerie deploy: done",
    ] {
        assert!(said.contains(words), "{words:?} not in\n{said}");
    }
    assert!(
        !said.contains(SECRET),
        "the admin password was printed:\n{said}"
    );
    let cloud = read_state(fe);
    assert_eq!(cloud["networks"][0]["name"], "demo-net", "{cloud:#}");
    assert_eq!(cloud["nodes"]["host2"]["mapped"], true, "{cloud:#}");
    // The config dir keeps post-deploy's files: they are Kolla's, not a change.
    let out = run.deploy(&["--check", "--step", "kolla"], "");
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(" unchanged") && !said.contains("would remove"),
        "{said}"
    );
    assert!(config.join("clouds.yaml").is_file());

    // 2. A rerun delivers nothing: unchanged, the same file (inode, mtime).
    let out = run.deploy(&["--step", "kolla"], "");
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(":/etc/kolla/admin-openrc.sh unchanged"),
        "{said}"
    );
    assert_eq!(on_host(fe, rc), (there.clone(), stat.clone()));

    // 3. The frontend's disk holding /etc/kolla is full: new credentials
    //    cannot be delivered. The error names the host and the path, the
    //    step to resume; the old file stays whole, no staged copy is left.
    fe.exec_ok(&format!(
        "cp -p {rc} /root/rc && mount -t tmpfs -o size=4k,mode=0755 full /etc/kolla && cp -p /root/rc {rc}"
    ));
    let out = run.deploy_with(&["--step", "kolla"], "", "openrc-n3w-secret");
    let said = text(&out);
    fe.exec_ok(&format!(
        "cp -p {rc} /root/rc-after && ls -A /etc/kolla > /root/ls-after && umount /etc/kolla"
    ));
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("cannot deliver the admin credentials to host1 (")
            && said.contains(":/etc/kolla/admin-openrc.sh: "),
        "{said}"
    );
    assert!(said.contains(" --step kolla"), "{said}");
    assert!(!said.contains("step 3/4"), "{said}");
    assert!(!said.contains("openrc-n3w-secret"), "{said}");
    assert_eq!(fe.exec_ok("cat /root/rc-after"), there);
    assert_eq!(fe.exec_ok("cat /root/ls-after"), "admin-openrc.sh\n");

    // 4. post-deploy left no credentials: a clear error naming the file and
    //    the step to resume; nothing delivered.
    fe.exec_ok(&format!("rm {rc}"));
    std::fs::remove_file(config.join("admin-openrc.sh")).unwrap();
    let out = run.deploy_with(&["--step", "kolla"], "", "");
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!(
            "{}/admin-openrc.sh is missing: Kolla's post-deploy did not write the admin credentials; rerun the kolla step (--step kolla)",
            config.display()
        )),
        "{said}"
    );
    assert!(said.contains("resume with:"), "{said}");
    assert_eq!(fe.exec(&format!("test -e {rc}")).status.code(), Some(1));
    tb.teardown().unwrap();
}
