//! Every cidata volume `aerie iso --config-only --cidata` writes, for every
//! node of every example site, checked by cloud-init itself (Debian 12's
//! cloud-init 22.4, the generation Rocky 9 ships): `cloud-init schema -c` on
//! its user-data, and `cloud-init devel net-convert` of its network-config
//! to systemd-networkd (Debian) and to sysconfig (Rocky), whose output must
//! carry the node's management address and default route.
//!
//! Needs cloud-init and xorriso (scripts/test-deps.sh); a missing one fails.

use crate::harness;
use crate::iso_fixtures;

use std::path::Path;
use std::process::Output;

use anyhow::{bail, Context, Result};
use harness::{aerie, tool};
use iso_fixtures::read_file;

fn cloud_init(args: &[&str]) -> Result<Output> {
    Ok(tool("cloud-init").args(args).output())
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The node's management interface: (device, address/prefix, gateway).
fn management(site: &aerie::site::Site, node: &aerie::site::Node) -> (String, String, String) {
    let (i, iface, net) = node
        .interfaces
        .iter()
        .enumerate()
        .find_map(|(i, f)| {
            let net = site.network(f.network.as_str())?;
            (net.purpose == aerie::site::Purpose::Management).then_some((i, f, net))
        })
        .expect("every example node is on the management network");
    let dev = iface
        .device
        .as_ref()
        .map_or_else(|| format!("nic{i}"), |d| d.to_string());
    let addr = format!(
        "{}/{}",
        iface.address.expect("an address"),
        net.cidr.prefix_len()
    );
    let gw = net.gateway.expect("the management network has a gateway");
    (dev, addr, gw.to_string())
}

fn check_node(example: &str, site: &aerie::site::Site, node: &aerie::site::Node) -> Result<()> {
    let host = node.hostname.as_str();
    let dir = tempfile::tempdir()?;
    let iso = dir.path().join("cidata.iso");
    // In the temp dir: the eucalyptus profile writes its secrets file there.
    aerie()
        .cwd(dir.path())
        .args(["iso", "--example", example, "--config-only", "--cidata"])
        .args(["--node", host, "--no-binary", "-o"])
        .arg(&iso)
        .try_run()?;
    let user_data = dir.path().join("user-data");
    let network_config = dir.path().join("network-config");
    std::fs::write(&user_data, read_file(&iso, "/user-data", dir.path())?)?;
    std::fs::write(
        &network_config,
        read_file(&iso, "/network-config", dir.path())?,
    )?;

    let o = cloud_init(&["schema", "-c", &user_data.to_string_lossy()])?;
    if !o.status.success() || !text(&o).contains("Valid cloud-config") {
        bail!(
            "{example}/{host}: cloud-init schema refuses the user-data:\n{}",
            text(&o)
        );
    }

    let (dev, addr, gw) = management(site, node);
    let convert = |distro: &str, kind: &str| -> Result<std::path::PathBuf> {
        let out = dir.path().join(kind);
        let o = cloud_init(&[
            "devel",
            "net-convert",
            "-p",
            &network_config.to_string_lossy(),
            "-k",
            "yaml",
            "-d",
            &out.to_string_lossy(),
            "-D",
            distro,
            "-O",
            kind,
        ])?;
        if !o.status.success() {
            bail!(
                "{example}/{host}: cloud-init net-convert -D {distro} -O {kind} refuses the network-config:\n{}",
                text(&o)
            );
        }
        Ok(out)
    };
    let read = |p: &Path| {
        std::fs::read_to_string(p).with_context(|| format!("{example}/{host}: {}", p.display()))
    };

    let networkd = convert("debian", "networkd")?;
    let unit = read(&networkd.join(format!("etc/systemd/network/10-cloud-init-{dev}.network")))?;
    for want in [
        format!("Address={addr}"),
        "Destination=0.0.0.0/0".to_string(),
        format!("Gateway={gw}"),
    ] {
        assert!(
            unit.contains(&want),
            "{example}/{host} networkd: {want} missing:\n{unit}"
        );
    }

    let sysconfig = convert("rocky", "sysconfig")?;
    let ifcfg = read(&sysconfig.join(format!("etc/sysconfig/network-scripts/ifcfg-{dev}")))?;
    let ip = addr.split('/').next().unwrap_or_default();
    for want in [
        format!("IPADDR={ip}"),
        format!("GATEWAY={gw}"),
        "DEFROUTE=yes".to_string(),
    ] {
        assert!(
            ifcfg.contains(&want),
            "{example}/{host} sysconfig: {want} missing:\n{ifcfg}"
        );
    }
    Ok(())
}

#[test]
fn every_cidata_volume_passes_cloud_init() -> Result<()> {
    let mut checked = 0;
    for (name, _, yaml) in aerie::site::examples::EXAMPLES {
        let site = aerie::site::load::from_str(yaml, name)?;
        for node in &site.nodes {
            check_node(name, &site, node)?;
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} nodes checked");
    Ok(())
}
