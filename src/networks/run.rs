//! One `aerie networks` run on the frontend: list the networks and subnets
//! once, then per instances network show it (when it exists) or create it,
//! and the same for its subnet. Every command goes through `register`'s
//! [`Frontend`] (argv, the profile's credentials sourced by a fixed script).

use super::cloud::{self, Net, Subnet};
use super::plan::{self, Wanted};
use super::{compare, NetworkReport, Observer, Report, Status};
use crate::frontend::{Frontend, Ran, Runner};
use crate::profile::Profile;
use crate::site::Site;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether the run may change the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Create what is missing.
    Apply,
    /// Change nothing: what is missing is reported as [`Status::Missing`].
    Check,
}

/// Make the site's instances networks the cloud's provider networks, with the
/// profile's `provider-networks:` credentials, on whatever `runner` reaches (the
/// frontend over SSH, or this machine when it is the frontend).
pub fn run(
    site: &Site,
    profile: &Profile,
    runner: &dyn Runner,
    mode: Mode,
    obs: &dyn Observer,
) -> Report {
    let Some(spec) = &profile.provider_networks else {
        return Report {
            physnet: site.physnet().to_string(),
            networks: Vec::new(),
            calls: 0,
            error: Some(format!(
                "profile {} has no provider networks (no `provider-networks:` section)",
                profile.name
            )),
        };
    };
    let fe = Frontend {
        runner,
        credentials: spec.credentials.clone(),
    };
    run_on(
        &fe,
        site.physnet(),
        plan::wanted(site, spec.share),
        mode,
        obs,
    )
}

/// Counts every command run on the frontend.
struct Counted<'a> {
    fe: &'a Frontend<'a>,
    calls: AtomicUsize,
}

impl Counted<'_> {
    /// Run `argv`; Err is a message: the command could not run, or failed.
    fn ok(&self, argv: &[String]) -> Result<Ran, String> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let ran = self.fe.run(argv).map_err(|e| e.to_string())?;
        if ran.success() {
            Ok(ran)
        } else {
            Err(ran.message())
        }
    }
}

/// [`run`] on an open frontend, for the networks given.
pub fn run_on(
    fe: &Frontend,
    physnet: &str,
    wanted: Vec<Wanted>,
    mode: Mode,
    obs: &dyn Observer,
) -> Report {
    let fe = Counted {
        fe,
        calls: AtomicUsize::new(0),
    };
    let total = wanted.len();
    let mut reports: Vec<NetworkReport> = wanted.iter().map(report_for).collect();
    obs.step(0, total, "reading the cloud's networks and subnets");
    let listed = list(&fe);
    let error = match listed {
        Err(msg) => {
            for r in &mut reports {
                fail(r, format!("nothing was checked: {msg}"));
            }
            Some(msg)
        }
        Ok((networks, subnets)) => {
            for (i, (w, r)) in wanted.iter().zip(&mut reports).enumerate() {
                obs.step(i, total, &w.name);
                one(&fe, w, &networks, &subnets, mode, r);
            }
            obs.step(total, total, "done");
            None
        }
    };
    Report {
        physnet: physnet.to_string(),
        networks: reports,
        calls: fe.calls.load(Ordering::Relaxed),
        error,
    }
}

fn report_for(w: &Wanted) -> NetworkReport {
    NetworkReport {
        network: w.name.clone(),
        subnet: w.subnet.name.clone(),
        key: w.key.clone(),
        status: Status::Present,
        commands: Vec::new(),
        differences: Vec::new(),
        error: None,
    }
}

fn fail(r: &mut NetworkReport, msg: String) {
    r.status = Status::Failed;
    r.error = Some(msg);
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

/// Every network as (id, name), and every subnet.
type Listed = (Vec<(String, String)>, Vec<Subnet>);

/// Every network and every subnet, in two commands.
fn list(fe: &Counted) -> Result<Listed, String> {
    let argv = words(&["openstack", "network", "list", "-f", "json"]);
    let ran = fe.ok(&argv)?;
    let networks =
        cloud::network_list(&ran.command, &ran.output.stdout).map_err(|e| e.to_string())?;
    let argv = words(&["openstack", "subnet", "list", "--long", "-f", "json"]);
    let ran = fe.ok(&argv)?;
    let subnets =
        cloud::subnet_list(&ran.command, &ran.output.stdout).map_err(|e| e.to_string())?;
    Ok((networks, subnets))
}

/// One network and its subnet; the report says where they ended.
fn one(
    fe: &Counted,
    w: &Wanted,
    networks: &[(String, String)],
    subnets: &[Subnet],
    mode: Mode,
    r: &mut NetworkReport,
) {
    let ids: Vec<&str> = networks
        .iter()
        .filter(|(_, name)| *name == w.name)
        .map(|(id, _)| id.as_str())
        .collect();
    let net = match ids.as_slice() {
        [] if mode == Mode::Check => {
            r.status = Status::Missing;
            r.commands.push(typed(&plan::create_network(w)));
            r.commands.push(typed(&plan::create_subnet(w, &w.name)));
            return;
        }
        [] => match create_network(fe, w, r) {
            Ok(net) => net,
            Err(msg) => return fail(r, msg),
        },
        [id] => match show_network(fe, id) {
            Ok(net) => net,
            Err(msg) => return fail(r, msg),
        },
        many => {
            return fail(
                r,
                format!(
                    "{} networks are named {} ({}): aerie finds its networks by name; rename or delete all \
                     but one (`openstack network set --name NEW-NAME ID`, `openstack network delete ID`)",
                    many.len(),
                    w.name,
                    many.join(", ")
                ),
            )
        }
    };
    r.differences = compare::network(w, &net);
    if !r.differences.is_empty() {
        r.status = Status::Differs;
        r.error = Some(format!(
            "network {} ({}) differs from the site; its subnet was not looked at",
            w.name, net.id
        ));
        return;
    }
    subnet(fe, w, &net, subnets, mode, r);
}

fn typed(argv: &[String]) -> String {
    crate::shell::join(argv).unwrap_or_else(|_| argv.join(" "))
}

fn create_network(fe: &Counted, w: &Wanted, r: &mut NetworkReport) -> Result<Net, String> {
    let argv = plan::create_network(w);
    let ran = fe.ok(&argv)?;
    r.commands.push(ran.command.clone());
    r.status = Status::Created;
    cloud::network(&ran.command, &ran.output.stdout).map_err(|e| e.to_string())
}

fn show_network(fe: &Counted, id: &str) -> Result<Net, String> {
    let ran = fe.ok(&words(&["openstack", "network", "show", "-f", "json", id]))?;
    cloud::network(&ran.command, &ran.output.stdout).map_err(|e| e.to_string())
}

/// The network's subnet: found by name, or made.
fn subnet(
    fe: &Counted,
    w: &Wanted,
    net: &Net,
    subnets: &[Subnet],
    mode: Mode,
    r: &mut NetworkReport,
) {
    let named: Vec<&Subnet> = subnets.iter().filter(|s| s.name == w.subnet.name).collect();
    let found = match named.as_slice() {
        [one] => *one,
        [] => {
            // The range already has a subnet of another name on this network: say so.
            let same = subnets.iter().find(|s| {
                s.network_id == net.id && s.cidr.parse::<ipnet::IpNet>().ok() == Some(w.subnet.cidr)
            });
            if let Some(s) = same {
                r.status = Status::Differs;
                r.differences.push(compare::Difference {
                    field: "subnet-name".into(),
                    site: w.subnet.name.clone(),
                    cloud: s.name.clone(),
                    fix: format!(
                        "`{}` (aerie finds the subnet by that name)",
                        typed(&words(&[
                            "openstack",
                            "subnet",
                            "set",
                            "--name",
                            &w.subnet.name,
                            &s.id
                        ]))
                    ),
                });
                return;
            }
            let argv = plan::create_subnet(w, &net.id);
            if mode == Mode::Check {
                r.status = Status::Missing;
                r.commands.push(typed(&argv));
                return;
            }
            let made = fe.ok(&argv).and_then(|ran| {
                r.commands.push(ran.command.clone());
                cloud::subnet(&ran.command, &ran.output.stdout).map_err(|e| e.to_string())
            });
            match made {
                Ok(s) => {
                    r.status = Status::Created;
                    r.differences = compare::subnet(w, &net.id, &s);
                    if !r.differences.is_empty() {
                        r.status = Status::Differs;
                    }
                }
                Err(msg) => fail(
                    r,
                    if r.status == Status::Created {
                        format!("network {} was created, but not its subnet: {msg}", w.name)
                    } else {
                        msg
                    },
                ),
            }
            return;
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|s| s.id.as_str()).collect();
            return fail(
                r,
                format!(
                    "{} subnets are named {} ({}): rename or delete all but one",
                    many.len(),
                    w.subnet.name,
                    ids.join(", ")
                ),
            );
        }
    };
    r.differences = compare::subnet(w, &net.id, found);
    if !r.differences.is_empty() {
        r.status = Status::Differs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::RunError;
    use crate::site::{examples, load};
    use crate::ssh::session::RemoteOutput;
    use std::sync::Mutex;

    /// A stand-in cloud: answers each command line from a table, records what ran.
    struct Script {
        answers: Vec<(String, i32, String)>,
        ran: Mutex<Vec<String>>,
    }

    impl Runner for Script {
        fn run(&self, argv: &[&str]) -> Result<RemoteOutput, RunError> {
            let line = crate::shell::join(argv).unwrap();
            self.ran.lock().unwrap().push(line.clone());
            let (status, out) = self
                .answers
                .iter()
                .find(|(prefix, _, _)| line.starts_with(prefix.as_str()))
                .map(|(_, s, o)| (*s, o.clone()))
                .unwrap_or((1, String::new()));
            Ok(RemoteOutput {
                status,
                stdout: out.into_bytes(),
                stderr: if status == 0 {
                    Vec::new()
                } else {
                    b"no answer".to_vec()
                },
            })
        }
    }

    fn script(answers: &[(&str, &str)]) -> Script {
        Script {
            answers: answers
                .iter()
                .map(|(p, o)| (p.to_string(), 0, o.to_string()))
                .collect(),
            ran: Mutex::new(Vec::new()),
        }
    }

    fn lab() -> Vec<Wanted> {
        let site = load::from_str(examples::get("lab").unwrap(), "lab").unwrap();
        plan::wanted(&site, true)
    }

    fn go(s: &Script, mode: Mode) -> Report {
        let fe = Frontend {
            runner: s,
            credentials: None,
        };
        run_on(&fe, "physnet1", lab(), mode, &super::super::Quiet)
    }

    const NET1: &str = r#"{"id": "n1", "name": "demo-net", "provider:network_type": "vlan",
        "provider:physical_network": "physnet1", "provider:segmentation_id": 101, "shared": true}"#;
    const NET2: &str = r#"{"id": "n2", "name": "demo2-net", "provider:network_type": "vlan",
        "provider:physical_network": "physnet1", "provider:segmentation_id": 102, "shared": true}"#;
    const SUB2: &str = r#"{"id": "s2", "name": "demo2-net-subnet", "network_id": "n2", "cidr": "10.44.2.0/24",
        "gateway_ip": "10.44.2.1", "allocation_pools": [{"start": "10.44.2.10", "end": "10.44.2.200"}],
        "dns_nameservers": ["192.0.2.53"], "enable_dhcp": true}"#;

    #[test]
    fn absent_networks_are_created_with_their_subnets() {
        let s = script(&[
            ("openstack network list", "[]"),
            ("openstack subnet list", "[]"),
            ("openstack network create --provider-network-type vlan --provider-physical-network physnet1 --provider-segment 101", NET1),
            ("openstack network create --provider-network-type vlan --provider-physical-network physnet1 --provider-segment 102", NET2),
            ("openstack subnet create --network n1", &SUB2.replace("demo2-net", "demo-net").replace("n2", "n1").replace("10.44.2.", "10.44.1.")),
            ("openstack subnet create --network n2", SUB2),
        ]);
        let r = go(&s, Mode::Apply);
        assert!(r.succeeded(), "{r:#?}");
        assert!(
            r.networks.iter().all(|n| n.status == Status::Created),
            "{r:#?}"
        );
        assert_eq!(r.calls, 6);
        assert_eq!(r.networks[1].commands.len(), 2);
        assert!(
            r.networks[1].commands[1].contains("--gateway 10.44.2.1"),
            "{r:#?}"
        );
    }

    #[test]
    fn present_networks_cost_one_show_each_and_change_nothing() {
        let list = r#"[{"ID": "n1", "Name": "demo-net"}, {"ID": "n2", "Name": "demo2-net"}, {"ID": "x", "Name": "other"}]"#;
        let subs = format!(
            "[{}, {}]",
            SUB2.replace("demo2-net", "demo-net")
                .replace("n2", "n1")
                .replace("10.44.2.", "10.44.1.")
                .replace("s2", "s1"),
            SUB2
        );
        let s = script(&[
            ("openstack network list", list),
            ("openstack subnet list", &subs),
            ("openstack network show -f json n1", NET1),
            ("openstack network show -f json n2", NET2),
        ]);
        let r = go(&s, Mode::Apply);
        assert!(
            r.networks.iter().all(|n| n.status == Status::Present),
            "{r:#?}"
        );
        assert_eq!(r.calls, 4);
        assert!(!s.ran.lock().unwrap().iter().any(|c| c.contains("create")));
    }

    #[test]
    fn a_differing_network_is_reported_and_its_subnet_left_alone() {
        let list = r#"[{"ID": "n1", "Name": "demo-net"}, {"ID": "n2", "Name": "demo2-net"}]"#;
        let s = script(&[
            ("openstack network list", list),
            ("openstack subnet list", "[]"),
            (
                "openstack network show -f json n1",
                &NET1.replace("101", "105"),
            ),
            ("openstack network show -f json n2", NET2),
            ("openstack subnet create --network n2", SUB2),
        ]);
        let r = go(&s, Mode::Apply);
        assert!(!r.succeeded());
        assert_eq!(r.networks[0].status, Status::Differs, "{r:#?}");
        assert_eq!(r.networks[0].differences[0].field, "segment");
        assert_eq!(r.networks[1].status, Status::Created, "{r:#?}");
        let ran = s.ran.lock().unwrap();
        assert!(!ran.iter().any(|c| c.contains("--network n1")), "{ran:#?}");
        assert!(!ran.iter().any(|c| c.contains("delete")), "{ran:#?}");
    }

    #[test]
    fn check_creates_nothing_and_a_failed_listing_fails_every_network() {
        let s = script(&[
            ("openstack network list", "[]"),
            ("openstack subnet list", "[]"),
        ]);
        let r = go(&s, Mode::Check);
        assert!(r.succeeded(), "{r:#?}");
        assert!(r.networks.iter().all(|n| n.status == Status::Missing));
        assert!(r.networks[0].commands[0].starts_with("openstack network create"));
        assert_eq!(r.calls, 2);

        let s = script(&[]);
        let r = go(&s, Mode::Apply);
        assert!(!r.succeeded());
        assert!(
            r.error
                .as_deref()
                .unwrap()
                .contains("openstack network list -f json"),
            "{r:#?}"
        );
        assert!(r.networks.iter().all(|n| n.status == Status::Failed));

        let dup = r#"[{"ID": "a", "Name": "demo-net"}, {"ID": "b", "Name": "demo-net"}]"#;
        let s = script(&[
            ("openstack network list", dup),
            ("openstack subnet list", "[]"),
        ]);
        let r = go(&s, Mode::Apply);
        assert!(r.networks[0]
            .error
            .as_deref()
            .unwrap()
            .contains("2 networks are named demo-net (a, b)"));
    }
}
