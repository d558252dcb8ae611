//! cloud-init NoCloud data for one node (pure): `meta-data`, `user-data`
//! (the node's bundle files, root's SSH keys and password hash, and a first
//! boot command that applies the bundle with aerie when the volume carries
//! the binary) and `network-config` (version 2) from the site.

use super::payload::Item;
use crate::bundle::converge::{FIRST_BOOT_MARK, REBOOT_MARKER};
use crate::bundle::HostBundle;
use crate::render::first_boot::{self, AERIE_BIN};
use crate::render::secrets::KeyPair;
use crate::render::trust::Trust;
use crate::site::{Node, Site};
use serde_json::{json, Value};
use std::path::Path;

/// Where the bundle lands on the node (as the kickstart's %post puts it).
pub const BUNDLE_PATH: &str = "/var/lib/aerie/bundle.json";

/// `meta-data`: instance id and host name.
pub fn meta_data(site: &Site, node: &Node) -> String {
    format!(
        "instance-id: aerie-{}-{}\nlocal-hostname: {}\n",
        site.site.name, node.hostname, node.hostname
    )
}

/// What the first boot gets besides the bundle: the role's Debian packages,
/// the node's host key made at render time, the other render-time keys, the
/// frontend's first-boot deploy or registration, and whether the aerie
/// binary is on the volume.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirstBoot<'a> {
    /// Installed (after an index update, from the node's own apt sources)
    /// before aerie converges: they create the users and groups the bundle's
    /// files belong to (`nova`, ...).
    pub packages: &'a [String],
    pub host_key: Option<&'a KeyPair>,
    /// The frontend's root key and pins, the key root authorizes
    /// (`crate::render::trust`), when the profile needs them.
    pub trust: Option<&'a Trust<'a>>,
    /// The frontend's unit that brings the cloud up (`crate::render::first_boot`).
    pub frontend: Option<&'a first_boot::FirstBoot>,
    pub binary: bool,
}

/// Where the first boot's script lands on the node: cloud-init runs it
/// once; the operator reruns it (`sh /var/lib/aerie/first-boot`) after
/// fixing what stopped it.
pub const FIRST_BOOT_PATH: &str = "/var/lib/aerie/first-boot";

/// The gateway the node's default route goes through, as the first boot
/// checks it: (gateway, the site key that sets it, the network's name, its
/// VLAN, the node's address on it).
fn management_gateway(
    site: &Site,
    node: &Node,
) -> Option<(String, String, String, Option<u16>, String)> {
    node.interfaces.iter().find_map(|iface| {
        let (i, net) = site
            .networks
            .iter()
            .enumerate()
            .find(|(_, n)| n.name.as_str() == iface.network.as_str())?;
        if net.purpose != crate::site::Purpose::Management {
            return None;
        }
        Some((
            net.gateway?.to_string(),
            format!("networks[{i}].gateway"),
            net.name.to_string(),
            net.vlan,
            iface.address?.to_string(),
        ))
    })
}

/// The first boot's shell script (`FIRST_BOOT_PATH`; cloud-init runs it
/// with the argument `cloud-init`): refuse a machine that has none of the
/// node's MACs (the volume of another node), stop when the gateway of the
/// node's management network does not answer (the site names a gateway
/// nothing answers on, or the machine is not on that network: its VLAN,
/// cable or switch port), install the binary from the volume, then converge.
/// Every outcome is said on the console (cloud-init's output goes to it) in
/// lines starting `aerie:`; a stop or a failed converge also leaves that
/// line in `FIRST_BOOT_MARK` (for `aerie status`) and fails the script.
/// Nothing of the bundle is written before every check passed.
fn first_boot_script(site: &Site, node: &Node, unit: Option<&first_boot::FirstBoot>) -> String {
    let marker = REBOOT_MARKER;
    let mark = FIRST_BOOT_MARK;
    let macs: Vec<String> = node
        .interfaces
        .iter()
        .filter_map(|i| i.mac.as_ref())
        .map(|m| m.as_str().to_ascii_lowercase())
        .collect();
    let host = node.hostname.as_str();
    let mut out = format!(
        "#!/bin/sh\n\
         # aerie's first boot of {host} (written by aerie iso --cidata); rerun: sh {FIRST_BOOT_PATH}\n\
         stop() {{\n\
         \x20   echo \"aerie: $1\"\n\
         \x20   mkdir -p /var/lib/aerie && printf 'aerie: %s\\n' \"$1\" > {mark}.tmp && mv -f {mark}.tmp {mark}\n\
         \x20   exit \"${{2:-1}}\"\n\
         }}\n"
    );
    if !macs.is_empty() {
        out.push_str(&format!(
            "here=$(cat /sys/class/net/*/address 2>/dev/null | tr '\\n' ' '); mine=\n\
             for m in {macs}; do case \" $here \" in *\" $m \"*) mine=1;; esac; done\n\
             if [ -z \"$mine\" ]; then stop \"this cidata volume is for {host} (MAC {macs}), not this machine (MACs: $here): nothing converged; give this machine its own volume (aerie iso SITE --config-only --cidata --node HOST) and {host} this one\"; fi\n",
            macs = macs.join(" "),
        ));
    }
    if let Some((gw, key, net, vlan, addr)) = management_gateway(site, node) {
        let link = match vlan {
            Some(id) => format!("link to network {net} (VLAN {id} on the switch port, cable)"),
            None => format!("link to network {net} (switch port, cable)"),
        };
        // An ARP (or neighbour discovery) answer from the gateway: python3
        // is there wherever cloud-init is, `ip` is iproute2.
        out.push_str(&format!(
            "if command -v python3 >/dev/null && command -v ip >/dev/null; then\n\
             \x20   if ! python3 -c 'import socket, subprocess, sys, time\n\
             a = sys.argv[1]\n\
             s = socket.socket(socket.AF_INET6 if \":\" in a else socket.AF_INET, socket.SOCK_DGRAM)\n\
             for _ in range(8):\n\
             \x20   try:\n\
             \x20       s.sendto(b\"\", (a, 9))\n\
             \x20   except OSError:\n\
             \x20       pass\n\
             \x20   time.sleep(1)\n\
             \x20   if b\"lladdr\" in subprocess.run([\"ip\", \"neigh\", \"show\", a], capture_output=True).stdout:\n\
             \x20       sys.exit(0)\n\
             sys.exit(1)' {gw}; then\n\
             \x20       stop \"cannot reach the gateway {gw} of network {net} from {addr}: nothing answers there. Nothing converged. Fix the site key {key} (then remake this volume: aerie iso SITE --config-only --cidata --node {host}) or this machine's {link}, then run: sh {FIRST_BOOT_PATH}\"\n\
             \x20   fi\n\
             \x20   echo 'aerie: the gateway {gw} of network {net} answers'\n\
             fi\n"
        ));
    }
    let (enable, absent) = match unit {
        Some(f) => (enable_unit(f), without_binary(f)),
        None => (String::new(), String::new()),
    };
    out.push_str(&format!(
        "rm -f {mark}\n\
         mkdir -p /run/aerie-media\n\
         mount -o ro /dev/disk/by-label/cidata /run/aerie-media 2>/dev/null || true\n\
         if [ -f /run/aerie-media/aerie ]; then install -m 0755 /run/aerie-media/aerie {AERIE_BIN}; fi\n\
         umount /run/aerie-media 2>/dev/null || true\n\
         if [ ! -x {AERIE_BIN} ]; then echo 'aerie: binary not on the cidata volume; run aerie converge {BUNDLE_PATH} over SSH'{absent}; exit 0; fi\n\
         if {AERIE_BIN} converge {BUNDLE_PATH}; then\n\
         \x20   echo 'aerie: converged on {BUNDLE_PATH}'\n\
         \x20   if [ -e {marker} ]; then\n\
         \x20       if [ \"${{1:-}}\" = cloud-init ]; then echo 'aerie: reboot required ({marker}): rebooting when cloud-init is done'\n\
         \x20       else echo 'aerie: reboot required ({marker}): reboot this machine'; fi\n\
         \x20   fi\n\
         {enable}\
         else\n\
         \x20   rc=$?\n\
         \x20   stop \"converge FAILED (exit $rc): see the lines above; fix the cause, then run: aerie converge {BUNDLE_PATH}\" $rc\n\
         fi\n"
    ));
    out
}

/// After a converge: enable the frontend's first-boot unit, so it runs
/// after the reboot the converge asked for, or start it now (without
/// waiting: it runs for as long as the cloud takes) when no reboot is due.
/// Said on the console; what it runs logs to the journal (and the deploy
/// to its 0600 log), never to the console, so no secret reaches it.
fn enable_unit(f: &first_boot::FirstBoot) -> String {
    let marker = REBOOT_MARKER;
    let unit = f.unit;
    let what = match f.job {
        first_boot::Job::Deploy => "aerie deploy --local",
        first_boot::Job::Register => "aerie register --local",
    };
    let log = match f.log {
        Some(l) => format!("journalctl -u {unit}, {l}"),
        None => format!("journalctl -u {unit}"),
    };
    let enable = f.enable_argv().join(" ");
    format!(
        "\x20   if {enable}; then\n\
         \x20       if [ -e {marker} ]; then echo 'aerie: {unit} enabled: {what} runs after the reboot ({log})'\n\
         \x20       elif systemctl start --no-block {unit}; then echo 'aerie: {unit} enabled and started: {what} runs now ({log})'\n\
         \x20       else stop \"cannot start {unit}: see the lines above; then run: systemctl start {unit}\"; fi\n\
         \x20   else\n\
         \x20       rc=$?\n\
         \x20       stop \"cannot enable {unit} (exit $rc): see the lines above; then run: {enable} && systemctl start --no-block {unit}\" $rc\n\
         \x20   fi\n"
    )
}

/// What the console says of the unit when the volume has no binary.
fn without_binary(f: &first_boot::FirstBoot) -> String {
    let unit = f.unit;
    format!(
        "; echo 'aerie: {unit} not enabled: it needs aerie at {AERIE_BIN}; put it there, run aerie converge {BUNDLE_PATH}, then: systemctl enable {unit} && systemctl start --no-block {unit}'"
    )
}

/// `user-data` (#cloud-config; JSON is valid YAML, so serde_json writes it).
/// With the binary on the volume, `aerie converge` writes the bundle's files
/// (every owner checked before the first write; one file's failure leaves the
/// others as they were or whole); without it cloud-init writes them itself,
/// deferred until the packages (and with them the files' owners) are there.
/// cloud-init reboots the node at its end when converge left the reboot mark.
pub fn user_data(site: &Site, node: &Node, bundle: &HostBundle, first: FirstBoot) -> String {
    let mut files: Vec<Value> = Vec::new();
    if !first.binary {
        files.extend(bundle.files.iter().map(|f| {
            json!({
                "path": f.path,
                "permissions": format!("{:#o}", f.mode),
                "owner": format!("{}:{}", f.owner, f.group),
                "content": f.content,
                "defer": true,
            })
        }));
    }
    files.push(json!({
        "path": BUNDLE_PATH,
        "permissions": "0o600",
        "content": bundle.to_json(),
    }));
    files.push(json!({
        "path": FIRST_BOOT_PATH,
        "permissions": "0o700",
        "content": first_boot_script(site, node, first.frontend),
    }));
    // The render-time keys and the frontend's first boot: written by
    // cloud-init before the first-boot script runs (private ones 0600,
    // never on the console); the script enables the unit after a converge.
    let trusted: Vec<first_boot::File> = first
        .trust
        .map(|t| {
            t.frontend_key
                .iter()
                .chain(&t.known_hosts)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let unit_files = first.frontend.map(|f| f.files()).unwrap_or_default();
    files.extend(trusted.iter().chain(&unit_files).map(|f| {
        json!({
            "path": f.path,
            "permissions": format!("{:#o}", f.mode),
            "owner": "root:root",
            "content": f.content,
        })
    }));
    let mut keys: Vec<&str> = site.site.ssh_keys.iter().map(|k| k.as_str()).collect();
    keys.extend(first.trust.and_then(|t| t.authorize));
    let mut root = json!({
        "name": "root",
        "lock_passwd": site.site.root_password_hash.is_none(),
        "ssh_authorized_keys": keys,
    });
    if let Some(h) = &site.site.root_password_hash {
        root["hashed_passwd"] = json!(h.as_str());
    }
    let mut doc = json!({
        "hostname": node.hostname.to_string(),
        "fqdn": format!("{}.{}", node.hostname, site.site.domain),
        "users": [root],
        "disable_root": false,
        "write_files": files,
        "runcmd": [["sh", FIRST_BOOT_PATH, "cloud-init"]],
        "power_state": {
            "mode": "reboot",
            "condition": format!("test -e {REBOOT_MARKER}"),
            "message": "aerie: rebooting: the kernel command line or module options changed",
            "timeout": 60,
        },
    });
    if !first.packages.is_empty() {
        doc["package_update"] = json!(true);
        doc["packages"] = json!(first.packages);
    }
    if let Some(kp) = first.host_key {
        doc["ssh_keys"] = json!({
            "ed25519_private": kp.private,
            "ed25519_public": kp.public,
        });
    }
    format!(
        "#cloud-config\n{}\n",
        serde_json::to_string_pretty(&doc).expect("JSON serializes")
    )
}

/// `network-config` (version 2): every interface with an address; VLAN
/// networks as VLAN interfaces on the device; the default route and DNS
/// from the management network.
pub fn network_config(site: &Site, node: &Node) -> String {
    let mut ethernets = serde_json::Map::new();
    let mut vlans = serde_json::Map::new();
    for (i, iface) in node.interfaces.iter().enumerate() {
        let Some(net) = site.network(iface.network.as_str()) else {
            continue;
        };
        let dev = iface
            .device
            .as_ref()
            .map_or_else(|| format!("nic{i}"), |d| d.to_string());
        let mut eth = json!({});
        if let Some(mac) = &iface.mac {
            eth["match"] = json!({ "macaddress": mac.to_string() });
            eth["set-name"] = json!(dev);
        }
        let mut cfg = json!({});
        if let Some(addr) = iface.address {
            cfg["addresses"] = json!([format!("{addr}/{}", net.cidr.prefix_len())]);
            if let Some(gw) = net.gateway {
                if net.purpose == crate::site::Purpose::Management {
                    cfg["routes"] = json!([{ "to": default_route(gw), "via": gw.to_string() }]);
                    if !site.site.dns.is_empty() {
                        cfg["nameservers"] = json!({
                            "addresses": site.site.dns.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                            "search": [site.site.domain.to_string()],
                        });
                    }
                }
            }
        }
        match net.vlan {
            Some(id) if iface.address.is_some() => {
                let mut v = cfg;
                v["id"] = json!(id);
                v["link"] = json!(dev);
                vlans.insert(format!("{dev}.{id}"), v);
                ethernets.entry(dev).or_insert(eth);
            }
            Some(_) => {
                ethernets.entry(dev).or_insert(eth);
            }
            None => {
                if let (Value::Object(e), Value::Object(c)) = (&mut eth, cfg) {
                    e.extend(c);
                }
                ethernets.insert(dev, eth);
            }
        }
    }
    let mut network = json!({ "version": 2, "ethernets": ethernets });
    if !vlans.is_empty() {
        network["vlans"] = Value::Object(vlans);
    }
    format!(
        "{}\n",
        serde_json::to_string_pretty(&network).expect("JSON serializes")
    )
}

/// The default route's destination for a gateway of that family. Not
/// `default`: cloud-init's network state learned that word only in 2025, and
/// the cloud-init of Rocky 9 and Debian 12 (22.4) refuses it ("Address
/// default is not a valid ip address"), leaving the node without network.
fn default_route(gw: std::net::IpAddr) -> &'static str {
    if gw.is_ipv4() {
        "0.0.0.0/0"
    } else {
        "::/0"
    }
}

/// The cidata volume of `node` in a rendered site, as `aerie iso
/// --config-only --cidata --node` writes it and `aerie lab up --image` gives
/// each VM: a Debian node's first boot also gets its role's Debian packages
/// and the host key made at render time (EL nodes get them by kickstart).
pub fn for_node(
    site: &Site,
    profile: &crate::profile::Profile,
    rendered: &crate::render::Rendered,
    secrets: Option<&crate::render::secrets::Secrets>,
    node: &Node,
    binary: Option<&Path>,
) -> anyhow::Result<Vec<Item>> {
    let host = node.hostname.as_str();
    let bundle = rendered
        .bundles
        .iter()
        .find(|b| b.hostname == host)
        .ok_or_else(|| anyhow::anyhow!("the node {host} has no bundle"))?;
    let packages = match crate::render::secrets::host_keys_on_cidata(site) {
        true => profile
            .role_on(node.role, site.site.distro)
            .packages
            .clone(),
        false => Vec::new(),
    };
    let host_key = host_key(site, secrets, host);
    // The render-time keys and the frontend's first boot, as the kickstart
    // road has them (the same descriptions), when the profile needs them.
    let needed = secrets.filter(|_| crate::render::secrets::needed(profile));
    let trust = needed.and_then(|s| crate::render::trust::for_node(site, node, profile, s));
    let frontend = first_boot::for_node(site, node, profile, needed);
    let first = FirstBoot {
        packages: &packages,
        host_key,
        trust: trust.as_ref(),
        frontend: frontend.as_ref(),
        binary: binary.is_some(),
    };
    Ok(items(site, node, bundle, first, binary))
}

/// The render-time host key `host`'s volume installs, if its site's nodes
/// get theirs that way (Debian 12).
pub fn host_key<'a>(
    site: &Site,
    secrets: Option<&'a crate::render::secrets::Secrets>,
    host: &str,
) -> Option<&'a KeyPair> {
    secrets
        .filter(|_| crate::render::secrets::host_keys_on_cidata(site))
        .and_then(|s| s.host_key(host))
}

/// The cidata volume's files for `node`, and the binary (for first boot).
pub fn items(
    site: &Site,
    node: &Node,
    bundle: &HostBundle,
    first: FirstBoot,
    binary: Option<&Path>,
) -> Vec<Item> {
    let mut items = vec![
        Item::Bytes {
            iso_path: "/user-data".into(),
            content: user_data(site, node, bundle, first).into_bytes(),
        },
        Item::Bytes {
            iso_path: "/meta-data".into(),
            content: meta_data(site, node).into_bytes(),
        },
        Item::Bytes {
            iso_path: "/network-config".into(),
            content: network_config(site, node).into_bytes(),
        },
    ];
    if let Some(b) = binary {
        items.push(Item::File {
            iso_path: "/aerie".into(),
            from: b.to_path_buf(),
        });
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab() -> Site {
        crate::site::load::from_str(crate::site::examples::get("lab").unwrap(), "lab").unwrap()
    }

    #[test]
    fn network_config_for_the_frontend() {
        let site = lab();
        let fe = site.frontend().unwrap();
        let v: Value = serde_json::from_str(&network_config(&site, fe)).unwrap();
        assert_eq!(v["version"], 2);
        let eth0 = &v["ethernets"]["eth0"];
        assert_eq!(eth0["match"]["macaddress"], "52:54:00:00:00:10");
        assert_eq!(eth0["addresses"][0], "10.20.0.10/24");
        assert_eq!(eth0["routes"][0]["via"], "10.20.0.1");
        assert_eq!(eth0["routes"][0]["to"], "0.0.0.0/0");
        assert_eq!(default_route("2001:db8::1".parse().unwrap()), "::/0");
        assert_eq!(eth0["nameservers"]["addresses"][0], "192.0.2.53");
    }

    #[test]
    fn user_data_carries_the_bundle() {
        let site = lab();
        let fe = site.frontend().unwrap();
        let profile = crate::profile::Profile::built_in(site.site.profile);
        let bundle = crate::concerns::bundle_for(&site, fe, &profile);
        let text = user_data(&site, fe, &bundle, FirstBoot::default());
        assert!(text.starts_with("#cloud-config\n"));
        let v: Value = serde_json::from_str(text.trim_start_matches("#cloud-config\n")).unwrap();
        assert_eq!(v["hostname"], "fe1");
        let paths: Vec<&str> = v["write_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert!(paths.contains(&BUNDLE_PATH));
        for f in &bundle.files {
            assert!(paths.contains(&f.path.as_str()), "{}", f.path);
        }
        assert!(v["users"][0]["hashed_passwd"]
            .as_str()
            .unwrap()
            .starts_with("$6$"));
        // The first boot: a script on the node cloud-init runs, which
        // refuses a machine without fe1's MAC and checks its gateway first.
        assert_eq!(v["runcmd"][0], json!(["sh", FIRST_BOOT_PATH, "cloud-init"]));
        let script = v["write_files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == FIRST_BOOT_PATH)
            .unwrap()["content"]
            .as_str()
            .unwrap();
        let guard = script.find("for m in 52:54:00:00:00:10; do").unwrap();
        let gateway = script
            .find("cannot reach the gateway 10.20.0.1 of network")
            .unwrap();
        let converge = script
            .find("aerie converge /var/lib/aerie/bundle.json; then")
            .unwrap();
        assert!(guard < gateway && gateway < converge, "{script}");
        assert!(
            script.contains("Fix the site key networks[0].gateway"),
            "{script}"
        );
        assert_eq!(
            meta_data(&site, fe),
            "instance-id: aerie-lab-fe1\nlocal-hostname: fe1\n"
        );
    }
}
