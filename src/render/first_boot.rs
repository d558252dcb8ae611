//! The frontend's first boot, one description for every road that installs a
//! frontend: the files it gets (the site, Kolla's passwords, mode and content),
//! the systemd unit that brings the cloud up once (its whole text) and how it
//! is enabled. The kickstart road writes them in `%post`
//! (`kickstart/firstboot-*.ks.j2`), the cidata road (Debian 12) as cloud-init
//! `write_files` and enables the unit from its first-boot script after a
//! converge (the iso road's cidata module). Road-neutral: no shell quoting,
//! no here-documents, no cloud-init keys here.
//!
//! Two jobs, by profile: a profile the frontend deploys itself (kolla) gets
//! `aerie-deploy.service` (`aerie deploy --local`: waits for the nodes, retried
//! and resumed from the failed step, logged to `DEPLOY_LOG`, marks the site
//! deployed); a profile with registration (openstack) gets
//! `aerie-register.service` (`aerie register --local`). Either unit runs only
//! once aerie is installed at `AERIE_BIN` and never after its mark exists.

use super::secrets::Secrets;
use crate::profile::Profile;
use crate::site::{Node, Role, Site};

/// Where every road installs the aerie binary on a node (the kickstart's
/// `%post --nochroot`, the cidata first-boot script); the units need it.
pub const AERIE_BIN: &str = "/usr/local/sbin/aerie";
/// Where the frontend keeps the site file for its first boot.
pub const SITE_PATH: &str = "/etc/aerie/site.yaml";
/// Where the frontend keeps the site's secrets its deploy needs (Kolla's passwords).
pub const SECRETS_PATH: &str = "/etc/aerie/site.secrets.yaml";
/// Where the first-boot deploy logs (besides the journal), mode 0600.
pub const DEPLOY_LOG: &str = "/var/log/aerie/deploy.log";
/// Written once registration succeeded: the register unit does not run again.
pub const REGISTERED: &str = "/var/lib/aerie/registered";
/// Where the units go.
pub const UNIT_DIR: &str = "/etc/systemd/system";
/// The frontend's root key when the profile names none (`aerie deploy --local`).
pub const DEPLOY_KEY: &str = "/root/.ssh/id_ed25519";
/// Where aerie on the frontend pins the nodes' host keys (made at render time).
pub const KNOWN_HOSTS_PATH: &str = "/etc/aerie/known_hosts";
/// Seconds the first-boot `aerie register` waits for the nodes per attempt.
const REGISTER_TIMEOUT: u64 = 3600;

/// A file a road installs, owned by root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub mode: u32,
    pub content: String,
}

impl File {
    fn new(path: &str, mode: u32, content: String) -> File {
        File {
            path: path.to_string(),
            mode,
            content,
        }
    }
}

/// What the first boot's unit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// `aerie deploy --local` (the frontend deploys the cloud: kolla).
    Deploy,
    /// `aerie register --local` (the cloud runs already: openstack).
    Register,
}

/// The frontend's first boot.
#[derive(Debug, Clone)]
pub struct FirstBoot {
    pub job: Job,
    /// The site as aerie rendered it (`SITE_PATH`, 0600).
    pub site: File,
    /// Kolla's passwords (`SECRETS_PATH`, 0600), when render has them.
    pub secrets: Option<File>,
    /// The unit's name (`aerie-deploy.service`, `aerie-register.service`).
    pub unit: &'static str,
    /// The unit file's whole text.
    pub unit_text: String,
    /// The mark whose existence keeps the unit from running again.
    pub done: &'static str,
    /// The deploy's log (`DEPLOY_LOG`); None for registration.
    pub log: Option<&'static str>,
    /// The command the unit runs.
    pub command: String,
    /// Services the register unit starts after (the profile's, for the
    /// frontend's distribution).
    pub after: Vec<String>,
    /// `--known-hosts FILE --identity KEY` (with a leading space) when the
    /// keys were made at render time, else empty.
    pub reach: String,
}

impl FirstBoot {
    /// The unit file's path.
    pub fn unit_path(&self) -> String {
        format!("{UNIT_DIR}/{}", self.unit)
    }

    /// Every file the first boot installs, in order: the site, the
    /// passwords, the unit (0644).
    pub fn files(&self) -> Vec<File> {
        let mut out = vec![self.site.clone()];
        out.extend(self.secrets.clone());
        out.push(File::new(&self.unit_path(), 0o644, self.unit_text.clone()));
        out
    }

    /// How the unit is enabled (both roads run it once the files are there).
    pub fn enable_argv(&self) -> [&'static str; 3] {
        ["systemctl", "enable", self.unit]
    }
}

/// Where the profile keeps the frontend's key: (private, public).
pub fn frontend_key_path(profile: &Profile) -> Option<(String, String)> {
    let named = profile
        .registration
        .as_ref()
        .and_then(|r| r.copy_frontend_key.as_ref())
        .map(|k| k.public.clone());
    let public = match named {
        Some(p) => p,
        None if super::secrets::deploys_from_frontend(profile) => format!("{DEPLOY_KEY}.pub"),
        None => return None,
    };
    let private = public.strip_suffix(".pub")?.to_string();
    Some((private, public))
}

/// `--known-hosts FILE --identity KEY` (leading space) when `secrets` hold
/// the render-time keys the profile's frontend uses, else empty.
pub fn reach(profile: &Profile, secrets: Option<&Secrets>) -> String {
    match (secrets, frontend_key_path(profile)) {
        (Some(_), Some((private, _))) => {
            format!(" --known-hosts {KNOWN_HOSTS_PATH} --identity {private}")
        }
        _ => String::new(),
    }
}

/// The first boot of `node`: None unless it is the frontend of a profile
/// that deploys (kolla) or registers (openstack) at first boot. `secrets`
/// are the render-time ones the profile needs (None when it needs none).
pub fn for_node(
    site: &Site,
    node: &Node,
    profile: &Profile,
    secrets: Option<&Secrets>,
) -> Option<FirstBoot> {
    if node.role != Role::Frontend {
        return None;
    }
    let reach = reach(profile, secrets);
    if super::secrets::deploys_from_frontend(profile) {
        Some(deploy(site, profile, secrets, reach))
    } else if profile.registration.is_some() {
        let after = profile
            .role_on(Role::Frontend, site.site.distro)
            .services
            .clone();
        Some(register(site, after, reach))
    } else {
        None
    }
}

/// The site file, as the first boot's command reads it.
fn site_file(site: &Site, command: &str) -> File {
    File::new(
        SITE_PATH,
        0o600,
        format!(
            "# The site {} as aerie rendered it; `aerie {command}` reads it at first boot.\n{}",
            site.site.name,
            crate::site::load::to_yaml(site)
        ),
    )
}

/// The frontend's first-boot deploy (kolla).
fn deploy(site: &Site, profile: &Profile, secrets: Option<&Secrets>, reach: String) -> FirstBoot {
    let passwords = secrets.and_then(|s| s.kolla_passwords.clone()).map(|p| {
        let only = Secrets {
            kolla_passwords: Some(p),
            ..Default::default()
        };
        File::new(SECRETS_PATH, 0o600, only.to_yaml())
    });
    let venv = profile
        .kolla
        .as_ref()
        .map(|k| format!(" --kolla-venv /var/lib/aerie/kolla-ansible-{}", k.version))
        .unwrap_or_default();
    let secrets_arg = if passwords.is_some() {
        format!(" --secrets {SECRETS_PATH}")
    } else {
        String::new()
    };
    let command = format!(
        "{AERIE_BIN} deploy --local {SITE_PATH}{secrets_arg}{venv} \
         --wait-nodes 3600 --resume --retries 5 --retry-delay 60{reach}"
    );
    let marker = crate::site::deployed::PATH;
    let unit_text = format!(
        "[Unit]\n\
         Description=aerie: deploy the cloud from the frontend (first boot)\n\
         Wants=network-online.target\n\
         After=network-online.target sshd.service\n\
         ConditionPathExists={AERIE_BIN}\n\
         ConditionPathExists=!{marker}\n\
         StartLimitIntervalSec=0\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         Environment=HOME=/root\n\
         ExecStart=/bin/bash -c 'set -o pipefail; umask 077; mkdir -p /var/log/aerie; {command} 2>&1 | tee -a {DEPLOY_LOG}'\n\
         Restart=on-failure\n\
         RestartSec=1800\n\
         TimeoutStartSec=infinity\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    );
    FirstBoot {
        job: Job::Deploy,
        site: site_file(site, "deploy --local"),
        secrets: passwords,
        unit: "aerie-deploy.service",
        unit_text,
        done: marker,
        log: Some(DEPLOY_LOG),
        command,
        after: Vec::new(),
        reach,
    }
}

/// The frontend's first-boot registration (a cloud that runs already).
fn register(site: &Site, after: Vec<String>, reach: String) -> FirstBoot {
    let command =
        format!("{AERIE_BIN} register --local {SITE_PATH} --timeout {REGISTER_TIMEOUT}{reach}");
    let services: String = after.iter().map(|s| format!(" {s}.service")).collect();
    let unit_text = format!(
        "[Unit]\n\
         Description=aerie: register the compute nodes with the cloud (first boot)\n\
         Wants=network-online.target\n\
         After=network-online.target{services}\n\
         ConditionPathExists={AERIE_BIN}\n\
         ConditionPathExists=!{REGISTERED}\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         ExecStart={command}\n\
         ExecStartPost=/usr/bin/touch {REGISTERED}\n\
         Restart=on-failure\n\
         RestartSec=120\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    );
    FirstBoot {
        job: Job::Register,
        site: site_file(site, "register"),
        secrets: None,
        unit: "aerie-register.service",
        unit_text,
        done: REGISTERED,
        log: None,
        command,
        after,
        reach,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> (Site, Profile) {
        let site =
            crate::site::load::from_str(crate::site::examples::get(name).unwrap(), name).unwrap();
        let profile = Profile::built_in(site.site.profile);
        (site, profile)
    }

    #[test]
    fn only_the_frontend_of_a_deploying_or_registering_profile_has_one() {
        let (site, profile) = example("kolla");
        let fe = site.frontend().unwrap();
        let first = for_node(&site, fe, &profile, None).unwrap();
        assert_eq!(first.job, Job::Deploy);
        assert_eq!(
            first.unit_path(),
            "/etc/systemd/system/aerie-deploy.service"
        );
        for n in site.nodes.iter().filter(|n| n.role == Role::Compute) {
            assert!(for_node(&site, n, &profile, None).is_none());
        }
        let (site, profile) = example("lab");
        let first = for_node(&site, site.frontend().unwrap(), &profile, None).unwrap();
        assert_eq!(first.job, Job::Register);
        assert!(first
            .unit_text
            .contains("\nExecStartPost=/usr/bin/touch /var/lib/aerie/registered\n"));
    }

    #[test]
    fn the_unit_needs_the_binary_and_runs_until_its_mark_exists() {
        let (site, profile) = example("kolla");
        let secrets = Secrets {
            kolla_passwords: Some(crate::site::secrets::KollaPasswords::new(
                "keystone_admin_password: x\n".into(),
            )),
            ..Default::default()
        };
        let first = for_node(&site, site.frontend().unwrap(), &profile, Some(&secrets)).unwrap();
        let text = &first.unit_text;
        assert!(
            text.contains(&format!("\nConditionPathExists={AERIE_BIN}\n")),
            "{text}"
        );
        assert!(
            text.contains("\nConditionPathExists=!/var/lib/aerie/deployed\n"),
            "{text}"
        );
        assert!(first.command.starts_with(&format!(
            "{AERIE_BIN} deploy --local {SITE_PATH} --secrets {SECRETS_PATH} "
        )));
        assert!(
            !text.contains("AERIE_UNIT_END"),
            "the kickstart's delimiter"
        );
        let files = first.files();
        let modes: Vec<(&str, u32)> = files.iter().map(|f| (f.path.as_str(), f.mode)).collect();
        assert_eq!(
            modes,
            [
                (SITE_PATH, 0o600),
                (SECRETS_PATH, 0o600),
                ("/etc/systemd/system/aerie-deploy.service", 0o644)
            ]
        );
        assert_eq!(
            first.enable_argv(),
            ["systemctl", "enable", "aerie-deploy.service"]
        );
    }

    #[test]
    fn a_debian_frontend_registers_after_its_debian_services() {
        let (mut site, profile) = example("lab");
        site.site.distro = crate::site::Distro::Debian12;
        let first = for_node(&site, site.frontend().unwrap(), &profile, None).unwrap();
        let debian = profile.role_on(Role::Frontend, site.site.distro);
        assert!(!debian.services.is_empty());
        for s in &debian.services {
            assert!(first.unit_text.contains(&format!(" {s}.service")), "{s}");
        }
        assert!(
            !first.unit_text.contains("openstack-nova-api"),
            "RDO's names"
        );
    }
}
