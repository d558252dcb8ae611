//! Host features: IOMMU, SR-IOV (driver, VFs, passthrough aliases, flavor),
//! the metadata redirect and nested KVM. SR-IOV answers are checked by
//! `validate`'s rules (driver limits, unique aliases, flavor sizes).

use super::parse::{field, number};
use super::{ask, rules};
use crate::site::sriov_driver::{self, DRIVERS};
use crate::site::{Features, Flavor, Iommu, Passthrough, ProfileName, Site, Sriov};

pub fn ask(site: &Site, existing: Option<&Features>) -> anyhow::Result<Features> {
    let iommu = ask::choose(
        "IOMMU to turn on in the kernel command line (needed for SR-IOV and passthrough)",
        &[
            (Iommu::Intel, "intel (intel_iommu=on iommu=pt)".to_string()),
            (Iommu::Amd, "amd (amd_iommu=on iommu=pt)".to_string()),
            (Iommu::Off, "off".to_string()),
        ],
        existing.map_or(Iommu::Intel, |f| f.iommu),
    )?;
    let old_sriov = existing.and_then(|f| f.sriov.as_ref());
    let sriov = if ask::yes("Set up SR-IOV virtual functions?", old_sriov.is_some())? {
        Some(ask_sriov(site, old_sriov)?)
    } else {
        None
    };
    let metadata_redirect = ask::yes(
        "Redirect the metadata address 169.254.169.254:80 on compute nodes (ebtables)?",
        existing.map_or(site.site.profile == ProfileName::Openstack, |f| {
            f.metadata_redirect
        }),
    )?;
    let nested_kvm = ask::yes(
        "Turn on nested KVM on compute nodes?",
        existing.is_some_and(|f| f.nested_kvm),
    )?;
    Ok(Features {
        iommu,
        sriov,
        metadata_redirect,
        nested_kvm,
    })
}

/// `site` with these SR-IOV settings.
fn with_sriov(site: &Site, sriov: &Sriov) -> Site {
    let mut site = site.clone();
    site.features.sriov = Some(sriov.clone());
    site
}

fn ask_sriov(site: &Site, old: Option<&Sriov>) -> anyhow::Result<Sriov> {
    let choices: Vec<(&str, String)> = DRIVERS
        .iter()
        .map(|d| {
            (
                d.module,
                format!(
                    "{} (option {}, up to {} VFs)",
                    d.module, d.count_option, d.max_vfs
                ),
            )
        })
        .collect();
    let old_driver = old.map_or(DRIVERS[0].module, |o| {
        sriov_driver::lookup(o.driver.as_str()).map_or(DRIVERS[0].module, |d| d.module)
    });
    let module = ask::choose(
        "SR-IOV driver (the module whose options carry the VF count)",
        &choices,
        old_driver,
    )?;
    let driver = sriov_driver::lookup(module).expect("offered from DRIVERS");
    let mut sriov = Sriov {
        driver: module.parse().expect("driver names are module names"),
        num_vfs: 1,
        probe_vf: None,
        passthrough: Vec::new(),
        flavor: None,
    };
    sriov.num_vfs = ask::value(
        &format!("Number of virtual functions (1-{})", driver.max_vfs),
        Some(old.map_or(driver.max_vfs.min(8), |o| o.num_vfs).to_string()),
        &|s| {
            let mut candidate = sriov.clone();
            candidate.num_vfs = number(s, 0, u32::MAX)?;
            rules::errors_at(&with_sriov(site, &candidate), "features.sriov.num-vfs")?;
            Ok(candidate.num_vfs)
        },
    )?;
    if driver.has_probe_vf {
        sriov.probe_vf = ask::optional(
            "Virtual functions the host itself binds (probe_vf; 0 keeps them all for instances; `none`: unset)",
            old.and_then(|o| o.probe_vf).map(|p| p.to_string()),
            &|s| {
                let mut candidate = sriov.clone();
                candidate.probe_vf = Some(number(s, 0, u32::MAX)?);
                rules::errors_at(&with_sriov(site, &candidate), "features.sriov.probe-vf")?;
                Ok(candidate.probe_vf.expect("set above"))
            },
        )?;
    }
    sriov.passthrough = ask::items(
        "PCI passthrough alias",
        old.map_or(&[][..], |o| o.passthrough.as_slice()),
        |p| format!("{} ({}:{})", p.alias, p.vendor_id, p.product_id),
        |_| None,
        |done| done.is_empty(),
        |done, old| ask_passthrough(site, &sriov, done, old),
    )?;
    let old_flavor = old.and_then(|o| o.flavor.as_ref());
    if !sriov.passthrough.is_empty()
        && ask::yes(
            "Create a flavor that requests passthrough devices?",
            old_flavor.is_some() || old.is_none(),
        )?
    {
        sriov.flavor = Some(ask_flavor(site, &sriov, old_flavor)?);
    }
    Ok(sriov)
}

fn ask_passthrough(
    site: &Site,
    sriov: &Sriov,
    done: &[Passthrough],
    old: Option<&Passthrough>,
) -> anyhow::Result<Passthrough> {
    let i = done.len();
    let mut entry = Passthrough {
        alias: "x".parse().expect("a valid alias"),
        vendor_id: "0000".parse().expect("a valid PCI id"),
        product_id: "0000".parse().expect("a valid PCI id"),
    };
    let with = |entry: &Passthrough| {
        let mut candidate = sriov.clone();
        candidate.passthrough = done.to_vec();
        candidate.passthrough.push(entry.clone());
        with_sriov(site, &candidate)
    };
    let alias_key = format!("features.sriov.passthrough[{i}].alias");
    entry.alias = ask::value(
        "Passthrough alias (the name flavors ask for, e.g. ib-vf)",
        old.map(|o| o.alias.to_string()),
        &|s| {
            let mut candidate = entry.clone();
            candidate.alias = field(s)?;
            rules::errors_at(&with(&candidate), &alias_key)?;
            Ok(candidate.alias)
        },
    )?;
    entry.vendor_id = ask::value(
        "PCI vendor id of the VFs (four hex digits, see lspci -nn; Mellanox: 15b3)",
        old.map(|o| o.vendor_id.to_string()),
        &field,
    )?;
    entry.product_id = ask::value(
        "PCI product id of the VFs (four hex digits, see lspci -nn)",
        old.map(|o| o.product_id.to_string()),
        &field,
    )?;
    Ok(entry)
}

fn ask_flavor(site: &Site, sriov: &Sriov, old: Option<&Flavor>) -> anyhow::Result<Flavor> {
    let mut flavor = old.cloned().unwrap_or(Flavor {
        name: "m1.sriov".parse().expect("a valid flavor name"),
        vcpus: 4,
        ram_mb: 8192,
        disk_gb: 40,
        devices: 1,
    });
    flavor.name = ask::value("Flavor name", Some(flavor.name.to_string()), &field)?;
    let check = |flavor: &Flavor, key: &str| {
        let mut candidate = sriov.clone();
        candidate.flavor = Some(flavor.clone());
        rules::errors_at(
            &with_sriov(site, &candidate),
            &format!("features.sriov.flavor.{key}"),
        )
    };
    for (key, prompt) in [
        ("vcpus", "Flavor vCPUs"),
        ("ram-mb", "Flavor RAM in MB"),
        ("disk-gb", "Flavor disk in GB"),
        ("devices", "Passthrough devices per instance of the flavor"),
    ] {
        let current = get(&flavor, key);
        let value = ask::value(prompt, Some(current.to_string()), &|s| {
            let mut candidate = flavor.clone();
            let n = number(s, 0, u32::MAX)?;
            set(&mut candidate, key, n);
            check(&candidate, key)?;
            Ok(n)
        })?;
        set(&mut flavor, key, value);
    }
    Ok(flavor)
}

fn get(flavor: &Flavor, key: &str) -> u32 {
    match key {
        "vcpus" => flavor.vcpus,
        "ram-mb" => flavor.ram_mb,
        "disk-gb" => flavor.disk_gb,
        _ => flavor.devices,
    }
}

fn set(flavor: &mut Flavor, key: &str, n: u32) {
    match key {
        "vcpus" => flavor.vcpus = n,
        "ram-mb" => flavor.ram_mb = n,
        "disk-gb" => flavor.disk_gb = n,
        _ => flavor.devices = n,
    }
}
