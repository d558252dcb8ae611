//! The kickstart for one node: the data its template sees. The template says
//! how a kickstart looks; this file decides what goes in it.

use super::heredoc::{delimiter, sh_quote};
use super::secrets::Secrets;
use crate::bundle::HostBundle;
use crate::concerns::iommu;
use crate::profile::Profile;
use crate::site::{Node, Purpose, Site};
use serde::Serialize;

/// Where %post leaves the bundle for `aerie converge`.
pub const BUNDLE_PATH: &str = "/var/lib/aerie/bundle.json";

#[derive(Debug, Serialize)]
pub struct Context<'a> {
    pub site: SiteCtx<'a>,
    pub node: NodeCtx,
    pub networks: Vec<NetLine>,
    pub repos: &'a [crate::profile::Repo],
    pub packages: &'a [String],
    pub services: &'a [String],
    /// `bootloader --append`, empty when there is nothing to add.
    pub kernel_append: String,
    pub files: Vec<PostFile>,
    pub units: &'a [String],
    pub bundle: PostFile,
    pub edits: usize,
    /// The frontend's first-boot registration (None for other roles and --minimal).
    pub firstboot: Option<FirstBoot>,
    /// The frontend's first-boot deploy (`aerie deploy --local`, kolla), in
    /// place of `firstboot`.
    pub first_deploy: Option<FirstDeploy>,
    /// Keys made at render time (see `secrets.rs`): None unless the profile needs them.
    pub trust: Option<Trust>,
}

/// Where aerie on the frontend pins the nodes' host keys (made at render time).
pub const KNOWN_HOSTS_PATH: &str = "/etc/aerie/known_hosts";

/// The render-time keys a node's %post installs.
#[derive(Debug, Serialize)]
pub struct Trust {
    /// Key files (private ones 0600), known-hosts files.
    pub files: Vec<PostFile>,
    /// A compute node: the frontend's public key for root's authorized_keys,
    /// shell-quoted (added once; kickstart's `sshkey` takes one key per user).
    pub authorize: Option<String>,
}

/// Where the frontend keeps the site file for its first boot.
pub const SITE_PATH: &str = "/etc/aerie/site.yaml";

/// The frontend's first boot: the site file and the unit running `aerie register --local`.
#[derive(Debug, Serialize)]
pub struct FirstBoot {
    pub site: PostFile,
    pub unit: &'static str,
    /// Services the unit starts after (the cloud's own, from the profile).
    pub after: Vec<String>,
    /// Written once registration succeeded: the unit does not run again.
    pub done: &'static str,
    /// Seconds `aerie register` waits for the nodes per attempt.
    pub timeout: u64,
    /// `--known-hosts FILE --identity KEY` when the keys were made at render time.
    pub reach: String,
}

/// Where the frontend keeps the site's secrets its deploy needs (Kolla's passwords).
pub const SECRETS_PATH: &str = "/etc/aerie/site.secrets.yaml";
/// Where the first-boot deploy logs (besides the journal), mode 0600.
pub const DEPLOY_LOG: &str = "/var/log/aerie/deploy.log";
/// The frontend's root key when the profile names none (`aerie deploy --local`).
const DEPLOY_KEY: &str = "/root/.ssh/id_ed25519";

/// The frontend's first boot for a profile it deploys itself (kolla): the site
/// file, Kolla's passwords and a unit that waits for the nodes, runs `aerie
/// deploy --local` (retried, resumed from the failed step) and leaves the
/// deployed marker, after which it never runs again.
#[derive(Debug, Serialize)]
pub struct FirstDeploy {
    pub site: PostFile,
    /// Kolla's passwords from the site's secrets file (0600), when render has them.
    pub secrets: Option<PostFile>,
    pub unit: &'static str,
    /// The marker `aerie deploy --local` writes on success.
    pub marker: &'static str,
    pub log: &'static str,
    /// The deploy's whole command line.
    pub command: String,
}

#[derive(Debug, Serialize)]
pub struct SiteCtx<'a> {
    pub name: &'a str,
    pub domain: &'a str,
    pub distro: &'a str,
    pub profile: &'a str,
    pub release: &'a str,
    pub timezone: &'a str,
    pub ntp: Vec<String>,
    pub ssh_keys: Vec<&'a str>,
    pub root_password_hash: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct NodeCtx {
    pub hostname: String,
    pub fqdn: String,
    pub role: &'static str,
    pub install_disk: Option<String>,
}

/// One `network` line, as options in order.
#[derive(Debug, Serialize)]
pub struct NetLine {
    pub options: String,
}

/// A file %post writes with a quoted here-document.
#[derive(Debug, Serialize)]
pub struct PostFile {
    pub path: String,
    pub dir: String,
    pub mode: String,
    pub owner: String,
    pub delimiter: String,
    pub content: String,
}

impl PostFile {
    fn new(path: &str, mode: u32, owner: &str, group: &str, content: &str) -> PostFile {
        let dir = path
            .rsplit_once('/')
            .map_or("/", |(d, _)| if d.is_empty() { "/" } else { d });
        PostFile {
            path: sh_quote(path),
            dir: sh_quote(dir),
            mode: format!("{mode:04o}"),
            owner: sh_quote(&format!("{owner}:{group}")),
            delimiter: delimiter(content),
            content: content.to_string(),
        }
    }
}

/// The network lines: addressed interfaces (static, tagged with `--vlanid`
/// when their network has a VLAN), then link-only devices for unaddressed
/// attachments, then the host name.
pub fn network_lines(site: &Site, node: &Node) -> Vec<NetLine> {
    let mut out = Vec::new();
    let mut seen_devices: Vec<String> = Vec::new();
    let dns: Vec<String> = site.site.dns.iter().map(|d| d.to_string()).collect();
    let mut first = true;
    for iface in &node.interfaces {
        let Some(net) = site.network(iface.network.as_str()) else {
            continue;
        };
        let device = match (&iface.mac, &iface.device) {
            (Some(mac), _) => mac.to_string(),
            (None, Some(dev)) => dev.to_string(),
            (None, None) => continue,
        };
        let Some(address) = iface.address else {
            continue;
        };
        let mut o = vec![format!("--device={device}"), "--bootproto=static".into()];
        match address {
            std::net::IpAddr::V4(a) => {
                o.push(format!("--ip={a}"));
                o.push(format!("--netmask={}", net.cidr.netmask()));
            }
            std::net::IpAddr::V6(a) => {
                o.push(format!("--ipv6={a}/{}", net.cidr.prefix_len()));
            }
        }
        let default_route = net.purpose == Purpose::Management && net.gateway.is_some() && first;
        match (default_route, net.gateway) {
            (true, Some(gw)) => {
                o.push(format!("--gateway={gw}"));
                first = false;
            }
            _ => o.push("--nodefroute".into()),
        }
        if !dns.is_empty() && net.purpose == Purpose::Management {
            o.push(format!("--nameserver={}", dns.join(",")));
        }
        if let Some(vlan) = net.vlan {
            o.push(format!("--vlanid={vlan}"));
        } else {
            seen_devices.push(device.clone());
        }
        o.push("--onboot=yes".into());
        o.push("--activate".into());
        out.push(NetLine {
            options: o.join(" "),
        });
    }
    // Devices that carry only unaddressed (instance) networks come up link-only.
    for iface in node.interfaces.iter().filter(|i| i.address.is_none()) {
        let device = match (&iface.mac, &iface.device) {
            (Some(mac), _) => mac.to_string(),
            (None, Some(dev)) => dev.to_string(),
            (None, None) => continue,
        };
        if seen_devices.contains(&device) {
            continue;
        }
        seen_devices.push(device.clone());
        out.push(NetLine {
            options: format!("--device={device} --noipv4 --noipv6 --onboot=yes"),
        });
    }
    out.push(NetLine {
        options: format!("--hostname={}.{}", node.hostname, site.site.domain),
    });
    out
}

/// The whole context for one node's kickstart.
pub fn context<'a>(
    site: &'a Site,
    node: &'a Node,
    profile: &'a Profile,
    bundle: &'a HostBundle,
    minimal: bool,
    secrets: Option<&Secrets>,
) -> Context<'a> {
    let secrets = secrets.filter(|_| !minimal && super::secrets::needed(profile));
    let trust = secrets.and_then(|s| trust(site, node, profile, s));
    let reach = match (secrets, frontend_key_path(profile)) {
        (Some(_), Some((private, _))) => {
            format!(" --known-hosts {KNOWN_HOSTS_PATH} --identity {private}")
        }
        _ => String::new(),
    };
    let role = profile.role(node.role);
    let applies = |c| !minimal && role.concerns.contains(&c);
    let kernel_append = if applies(crate::bundle::Concern::Iommu) {
        iommu::kernel_args(site.features.iommu).join(" ")
    } else {
        String::new()
    };
    let files = bundle
        .files
        .iter()
        .map(|f| PostFile::new(&f.path, f.mode, &f.owner, &f.group, &f.content))
        .collect();
    let empty: &[String] = &[];
    Context {
        site: SiteCtx {
            name: site.site.name.as_str(),
            domain: site.site.domain.as_str(),
            distro: site.site.distro.as_str(),
            profile: profile.name.as_str(),
            release: profile.release.as_str(),
            timezone: site.site.timezone.as_str(),
            ntp: site.site.ntp.iter().map(|n| n.to_string()).collect(),
            ssh_keys: site.site.ssh_keys.iter().map(|k| k.as_str()).collect(),
            root_password_hash: site.site.root_password_hash.as_ref().map(|h| h.as_str()),
        },
        node: NodeCtx {
            hostname: node.hostname.to_string(),
            fqdn: format!("{}.{}", node.hostname, site.site.domain),
            role: if minimal {
                "minimal"
            } else {
                node.role.as_str()
            },
            install_disk: node.install_disk.as_ref().map(|d| d.to_string()),
        },
        networks: network_lines(site, node),
        repos: if minimal { &[] } else { &role.repos },
        packages: if minimal { empty } else { &role.packages },
        services: if minimal { empty } else { &role.services },
        kernel_append,
        files,
        units: &bundle.units,
        bundle: PostFile::new(BUNDLE_PATH, 0o600, "root", "root", &bundle.to_json()),
        edits: bundle.edits.len(),
        first_deploy: (node.role == crate::site::Role::Frontend
            && !minimal
            && super::secrets::deploys_from_frontend(profile))
        .then(|| first_deploy(site, profile, secrets, &reach)),
        firstboot: (node.role == crate::site::Role::Frontend
            && !minimal
            && profile.registration.is_some()
            && !super::secrets::deploys_from_frontend(profile))
        .then(|| FirstBoot {
            site: PostFile::new(
                SITE_PATH,
                0o600,
                "root",
                "root",
                &format!(
                    "# The site {} as aerie rendered it; `aerie register` reads it at first boot.\n{}",
                    site.site.name,
                    crate::site::load::to_yaml(site)
                ),
            ),
            unit: "aerie-register.service",
            after: role.services.clone(),
            done: "/var/lib/aerie/registered",
            timeout: 3600,
            reach,
        }),
        trust,
    }
}

/// Where the profile keeps the frontend's key: (private, public).
fn frontend_key_path(profile: &Profile) -> Option<(String, String)> {
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
    Some((private, public.clone()))
}

/// The known-hosts lines naming every compute node with its render-time host key.
fn known_hosts(site: &Site, profile: &Profile, secrets: &Secrets) -> String {
    let itself = super::secrets::deploys_from_frontend(profile);
    let mut out = if itself {
        String::from("# Every node's host key (the frontend's too), made by `aerie render`.\n")
    } else {
        String::from("# The compute nodes' host keys, made by `aerie render`.\n")
    };
    for n in site
        .nodes
        .iter()
        .filter(|n| itself || n.role == crate::site::Role::Compute)
    {
        let Some(kp) = secrets.host_key(n.hostname.as_str()) else {
            continue;
        };
        let mut names: Vec<String> = Vec::new();
        if let Some(host) = n.ssh_host(site) {
            names.push(crate::ssh::known_hosts::host_pattern(&host, n.ssh_port()));
        }
        for name in [
            n.hostname.to_string(),
            format!("{}.{}", n.hostname, site.site.domain),
        ] {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let key: Vec<&str> = kp.public.split_whitespace().take(2).collect();
        out.push_str(&format!("{} {}\n", names.join(","), key.join(" ")));
    }
    out
}

/// A node's render-time ed25519 host key, as files.
fn host_key_files(files: &mut Vec<PostFile>, kp: &crate::site::secrets::KeyPair) {
    let key = "/etc/ssh/ssh_host_ed25519_key";
    files.push(PostFile::new(key, 0o600, "root", "root", &kp.private));
    files.push(PostFile::new(
        &format!("{key}.pub"),
        0o644,
        "root",
        "root",
        &format!("{}\n", kp.public),
    ));
}

/// The frontend's first-boot deploy (kolla).
fn first_deploy(
    site: &Site,
    profile: &Profile,
    secrets: Option<&Secrets>,
    reach: &str,
) -> FirstDeploy {
    let passwords = secrets.and_then(|s| s.kolla_passwords.clone()).map(|p| {
        let only = Secrets {
            kolla_passwords: Some(p),
            ..Default::default()
        };
        PostFile::new(SECRETS_PATH, 0o600, "root", "root", &only.to_yaml())
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
    FirstDeploy {
        site: PostFile::new(
            SITE_PATH,
            0o600,
            "root",
            "root",
            &format!(
                "# The site {} as aerie rendered it; `aerie deploy --local` reads it at first boot.\n{}",
                site.site.name,
                crate::site::load::to_yaml(site)
            ),
        ),
        secrets: passwords,
        unit: "aerie-deploy.service",
        marker: crate::site::deployed::PATH,
        log: DEPLOY_LOG,
        command: format!(
            "/usr/local/sbin/aerie deploy --local {SITE_PATH}{secrets_arg}{venv} \
             --wait-nodes 3600 --resume --retries 5 --retry-delay 60{reach}"
        ),
    }
}

/// What this node's %post installs of the render-time keys.
fn trust(site: &Site, node: &Node, profile: &Profile, secrets: &Secrets) -> Option<Trust> {
    let mut files = Vec::new();
    let mut authorize = None;
    match node.role {
        crate::site::Role::Compute => {
            let kp = secrets.host_key(node.hostname.as_str())?;
            host_key_files(&mut files, kp);
            authorize = secrets.frontend_key.as_ref().map(|k| sh_quote(&k.public));
        }
        crate::site::Role::Frontend => {
            let kp = secrets.frontend_key.as_ref()?;
            let (private, public) = frontend_key_path(profile)?;
            files.push(PostFile::new(&private, 0o600, "root", "root", &kp.private));
            files.push(PostFile::new(
                &public,
                0o644,
                "root",
                "root",
                &format!("{}\n", kp.public),
            ));
            if super::secrets::deploys_from_frontend(profile) {
                // It deploys itself over SSH: its own host key, its own key authorized.
                if let Some(hk) = secrets.host_key(node.hostname.as_str()) {
                    host_key_files(&mut files, hk);
                }
                authorize = Some(sh_quote(&kp.public));
            }
            let kh = known_hosts(site, profile, secrets);
            files.push(PostFile::new(KNOWN_HOSTS_PATH, 0o644, "root", "root", &kh));
            files.push(PostFile::new(
                "/root/.ssh/known_hosts",
                0o644,
                "root",
                "root",
                &kh,
            ));
        }
    }
    Some(Trust { files, authorize })
}
