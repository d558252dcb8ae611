//! Site-wide questions: profile, distro, name, domain, time zone, DNS, NTP,
//! then the SSH keys and the root password (their own modules).

use super::ask;
use super::parse::{field, ip};
use crate::site::{Distro, ProfileName, Settings};

pub fn ask(base: Option<&Settings>) -> anyhow::Result<Settings> {
    let profile = ask::choose(
        "Cloud profile",
        &[
            (ProfileName::Openstack, "openstack".to_string()),
            (ProfileName::Eucalyptus, "eucalyptus".to_string()),
            (
                ProfileName::Kolla,
                "kolla (OpenStack in containers, deployed by Kolla-Ansible)".to_string(),
            ),
        ],
        base.map_or(ProfileName::Openstack, |b| b.profile),
    )?;
    let mut distros = vec![(Distro::Rocky9, "rocky9".to_string())];
    // Kolla-Ansible's prechecks know no AlmaLinux (validation refuses it).
    if profile != ProfileName::Kolla {
        distros.push((Distro::Alma9, "alma9".to_string()));
    }
    distros.push((Distro::CentosStream9, "centos-stream9".to_string()));
    // Eucalyptus ships EL packages only (validation refuses it on Debian).
    if profile != ProfileName::Eucalyptus {
        distros.push((
            Distro::Debian12,
            "debian12 (installed outside aerie; configured by cloud-init or SSH)".to_string(),
        ));
    }
    let distro = ask::choose(
        "Distribution installed on the nodes",
        &distros,
        base.map_or(Distro::Rocky9, |b| b.distro),
    )?;
    let name = ask::value(
        "Site name (lowercase letters, digits, '-')",
        base.map(|b| b.name.to_string()),
        &field,
    )?;
    let domain = ask::value(
        "DNS domain of the site",
        base.map(|b| b.domain.to_string()),
        &field,
    )?;
    let timezone = ask::value(
        "Time zone",
        Some(base.map_or("UTC".to_string(), |b| b.timezone.to_string())),
        &field,
    )?;
    let dns = ask::list(
        "DNS servers",
        &base.map_or(Vec::new(), |b| {
            b.dns.iter().map(ToString::to_string).collect()
        }),
        &ip,
    )?;
    let ntp = ask::list(
        "NTP servers",
        &base.map_or(vec!["pool.ntp.org".to_string()], |b| {
            b.ntp.iter().map(ToString::to_string).collect()
        }),
        &field,
    )?;
    let ssh_keys = super::ssh_keys::ask(base.map(|b| b.ssh_keys.as_slice()))?;
    let root_password_hash =
        super::password::ask(base.and_then(|b| b.root_password_hash.as_ref()))?;
    // Only Kolla pulls container images (validation refuses the key elsewhere).
    let container_registry = if profile == ProfileName::Kolla {
        ask::optional(
            "Container registry for Kolla's images, host:port (`none`: Kolla's default, needs internet)",
            base.and_then(|b| b.container_registry.as_ref())
                .map(ToString::to_string),
            &field,
        )?
    } else {
        None
    };
    Ok(Settings {
        name,
        domain,
        profile,
        distro,
        timezone,
        dns,
        ntp,
        ssh_keys,
        root_password_hash,
        physnet: base.and_then(|b| b.physnet.clone()),
        container_registry,
    })
}
