//! The kickstart for one node: the data its template sees. The template says
//! how a kickstart looks; this file decides what goes in it.

use super::first_boot::{self, File, Job};
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

/// The render-time keys a node's %post installs.
#[derive(Debug, Serialize)]
pub struct Trust {
    /// Key files (private ones 0600), known-hosts files.
    pub files: Vec<PostFile>,
    /// A compute node: the frontend's public key for root's authorized_keys,
    /// shell-quoted (added once; kickstart's `sshkey` takes one key per user).
    pub authorize: Option<String>,
}

/// The frontend's first boot: the site file and the unit running `aerie register --local`.
#[derive(Debug, Serialize)]
pub struct FirstBoot {
    pub site: PostFile,
    pub unit: &'static str,
    /// The unit file's text (`first_boot.rs`, the same on every road).
    pub unit_text: String,
    /// Services the unit starts after (the cloud's own, from the profile).
    pub after: Vec<String>,
    /// Written once registration succeeded: the unit does not run again.
    pub done: &'static str,
    /// Seconds `aerie register` waits for the nodes per attempt.
    pub timeout: u64,
    /// `--known-hosts FILE --identity KEY` when the keys were made at render time.
    pub reach: String,
}

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
    /// The unit file's text (`first_boot.rs`, the same on every road).
    pub unit_text: String,
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
    /// A root-owned file of the road-neutral descriptions (`first_boot.rs`, `trust.rs`).
    fn from(f: &File) -> PostFile {
        PostFile::new(&f.path, f.mode, "root", "root", &f.content)
    }

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
    let first = (!minimal)
        .then(|| first_boot::for_node(site, node, profile, secrets))
        .flatten();
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
        first_deploy: first
            .as_ref()
            .filter(|f| f.job == Job::Deploy)
            .map(first_deploy),
        firstboot: first
            .as_ref()
            .filter(|f| f.job == Job::Register)
            .map(|f| FirstBoot {
                site: PostFile::from(&f.site),
                unit: f.unit,
                unit_text: f.unit_text.clone(),
                after: f.after.clone(),
                done: f.done,
                timeout: 3600,
                reach: f.reach.clone(),
            }),
        trust,
    }
}

/// The frontend's first-boot deploy (kolla), as %post writes it.
fn first_deploy(f: &first_boot::FirstBoot) -> FirstDeploy {
    FirstDeploy {
        site: PostFile::from(&f.site),
        secrets: f.secrets.as_ref().map(PostFile::from),
        unit: f.unit,
        unit_text: f.unit_text.clone(),
        marker: f.done,
        log: f.log.unwrap_or(first_boot::DEPLOY_LOG),
        command: f.command.clone(),
    }
}

/// What this node's %post installs of the render-time keys.
fn trust(site: &Site, node: &Node, profile: &Profile, secrets: &Secrets) -> Option<Trust> {
    let t = super::trust::for_node(site, node, profile, secrets)?;
    let mut files: Vec<PostFile> = t.frontend_key.iter().map(PostFile::from).collect();
    if let Some(kp) = t.host_key {
        files.extend(super::trust::host_key_files(kp).iter().map(PostFile::from));
    }
    files.extend(t.known_hosts.iter().map(PostFile::from));
    Some(Trust {
        files,
        authorize: t.authorize.map(sh_quote),
    })
}
