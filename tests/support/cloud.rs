//! A real OpenStack on the test hosts: keystone, placement, nova and neutron from PyPI
//! (`tests/cloud/requirements.txt`, installed by `scripts/test-deps.sh` into
//! [`VENV`] with Debian's python3, the same 3.11 as the hosts' root filesystem, so the
//! venv runs inside the hosts when bind-mounted at the same path).
//!
//! On the frontend (host 1) of a [`Testbed`]:
//! - in its network namespace, from the machine's Debian packages (they are not in the
//!   hosts' root filesystem): mariadb, rabbitmq-server, and Open vSwitch (ovsdb-server,
//!   ovs-vswitchd with the userspace `netdev` datapath: the kernel has no openvswitch
//!   module, no 802.1q and no bridge VLAN filtering, so VLAN tags are handled by OVS);
//! - inside the host (its namespaces and root, as sshd sees it): keystone, placement,
//!   nova-api (gunicorn), nova-conductor, nova-scheduler, neutron's API (gunicorn),
//!   neutron-rpc-server and neutron-dhcp-agent, which starts the hosts' own dnsmasq in
//!   `qdhcp-<network>` namespaces of its own.
//!
//! On every other host: nova-compute with `compute_driver = fake.FakeDriver`, `host` =
//! the host's name. `/root/keystonerc_admin` on the frontend holds the admin credentials
//! (where the openstack profile's registration reads them; [`Cloud::admin_openrc`]);
//! `openstack` and `nova-manage` are on the frontend's PATH.
//!
//! STAND-IN, named: neutron 29 ships no linuxbridge agent, and the openvswitch agent is
//! not run here; [`Cloud::wire_dhcp_ports`] does the one thing that agent would do for a
//! DHCP port on a VLAN provider network: tag the port in OVS with the network's
//! segmentation id. The frontend's physnet NIC is `eth1`, a second veth on the lab bridge,
//! added to OVS `br-int` as a trunk.
//!
//! Include after the testbed:
//! `#[path = "support/testbed.rs"] mod testbed; #[path = "support/cloud.rs"] mod cloud;`
#![allow(dead_code)]

use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use crate::testbed::{require_tool, TestHost, Testbed, SETUP_COMMAND};

/// The venv with the OpenStack services (bind-mounted read-only into every host).
pub const VENV: &str = "/opt/aerie-test/openstack";
/// Keystone's admin password (a test cloud on private namespaces).
pub const ADMIN_PASSWORD: &str = "aerie-test-admin";
/// Where the openstack profile's registration reads credentials, on the frontend.
pub const OPENRC: &str = "/root/keystonerc_admin";
/// The physnet of the VLAN provider networks, and its VLAN range.
pub const PHYSNET: &str = "physnet1";
pub const VLAN_RANGE: (u16, u16) = (100, 199);
/// nova's hypervisor list at the microversion aerie asks for (hypervisors named by
/// UUID), after `openstack `.
pub const HYPERVISOR_LIST: &str = "--os-compute-api-version 2.53 hypervisor list -f json";

const DB_PASSWORD: &str = "aerie-test-db";
const DROP_CAPS: &str = "-sys_boot,-sys_module,-sys_time";
const PATH_IN_HOST: &str =
    "/opt/aerie-test/openstack/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Inside the hosts: service logs.
const LOGS: &str = "/var/log/aerie-cloud";
/// Inside the frontend: the harness's own scripts (db-sync, catalog, wsgi shim, probe).
const SCRIPTS: &str = "/etc/aerie-test/cloud";

const KEYSTONE_CONF: &str = include_str!("../cloud/etc/keystone.conf");
const PLACEMENT_CONF: &str = include_str!("../cloud/etc/placement.conf");
const NOVA_CONF: &str = include_str!("../cloud/etc/nova.conf");
const NEUTRON_CONF: &str = include_str!("../cloud/etc/neutron.conf");
const ML2_CONF: &str = include_str!("../cloud/etc/ml2_conf.ini");
const DHCP_AGENT_INI: &str = include_str!("../cloud/etc/dhcp_agent.ini");
const DB_SYNC: &str = include_str!("../cloud/db-sync.sh");
const CATALOG: &str = include_str!("../cloud/catalog.py");
const WSGI: &str = include_str!("../cloud/wsgi.py");
const PROBE: &str = include_str!("../cloud/probe.py");
const FAULT_PROXY: &str = include_str!("../cloud/fault_proxy.py");
const REQUIREMENTS: &str = include_str!("../cloud/requirements.txt");
/// Bootstrapped databases of earlier starts ([`db_cache_dir`]).
const DB_CACHE: &str = "/var/cache/aerie-test/cloud-db";

/// What nova 34's nova-compute logs when it dies at start-up under heavy load: a
/// race in nova.context's cell cache (a dict iterated while another thread of the
/// same process fills it). Seen once among 50 starting at once, and on a loaded
/// 2-core machine with a handful. The harness starts such a nova-compute again
/// (at most [`RACE_RESTARTS`] times each) and says so on stderr; any other exit
/// of a daemon fails the test.
const NOVA_START_RACE: &str = "dictionary changed size during iteration";
const RACE_RESTARTS: usize = 3;

fn timing() -> bool {
    std::env::var_os("AERIE_TESTBED_TIMING").is_some()
}

/// A running OpenStack on a testbed's hosts. Dropping it (or [`Cloud::stop`]) kills every
/// process it started, deletes the namespaces it and neutron made, and removes its files.
pub struct Cloud<'a> {
    tb: &'a Testbed,
    /// Machine-side state (mariadb datadir, rabbitmq, OVS db): `<testbed dir>/cloud`.
    dir: PathBuf,
    /// Daemons spawned from here (nsenter / ip netns exec parents).
    children: Vec<(String, Child)>,
    next_client: usize,
    stopped: bool,
    /// How long [`Cloud::start`] took.
    pub startup: Duration,
    /// Per nova-compute (by child name): how often it was started again after
    /// nova 34's start-up race ([`NOVA_START_RACE`]).
    race_restarts: std::collections::BTreeMap<String, usize>,
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
}

/// Held by the running cloud: the test binaries run tests on threads, and two clouds
/// at once would only slow each other down on this machine.
static ONE_CLOUD: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What a DHCP client on a VLAN was offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpOffer {
    pub ip: String,
    pub router: String,
    pub subnet: String,
}

impl<'a> Cloud<'a> {
    /// Bring up the cloud on `tb` (host 1 the frontend, the others compute nodes) and
    /// wait until nova lists every compute service up and neutron's DHCP agent is alive.
    pub fn start(tb: &'a Testbed) -> Result<Cloud<'a>> {
        let all: Vec<usize> = (2..=tb.hosts().len()).collect();
        Cloud::start_with(tb, &all)
    }

    /// [`Cloud::start`], with nova-compute started only on the hosts `computes` (by
    /// 1-based index); the other compute hosts are prepared, and
    /// [`Cloud::start_compute`] starts theirs later. One cloud at a time per process:
    /// a second `start` waits until the first cloud is stopped.
    pub fn start_with(tb: &'a Testbed, computes: &[usize]) -> Result<Cloud<'a>> {
        let one_at_a_time = ONE_CLOUD.lock().unwrap_or_else(|e| e.into_inner());
        let t0 = Instant::now();
        for tool in [
            "mariadbd",
            "mariadb-install-db",
            "mariadb",
            "ovsdb-server",
            "ovs-vswitchd",
            "ovs-vsctl",
            "ovsdb-tool",
            "curl",
        ] {
            require_tool(tool)?;
        }
        if !Path::new(VENV).join("bin/nova-compute").exists() {
            bail!("no OpenStack venv at {VENV}: run {SETUP_COMMAND}");
        }
        if !Path::new("/usr/lib/rabbitmq/bin/rabbitmq-server").exists() {
            bail!("rabbitmq-server is not installed: run {SETUP_COMMAND}");
        }
        let dir = tb.dir().join("cloud");
        fs::create_dir_all(&dir)?;
        let mut cloud = Cloud {
            tb,
            dir,
            children: Vec::new(),
            next_client: 0,
            stopped: false,
            startup: Duration::ZERO,
            race_restarts: Default::default(),
            _one_at_a_time: one_at_a_time,
        };
        let fe = tb.host(1);
        for h in tb.hosts() {
            cloud.prepare_host(h)?;
        }
        cloud.add_physnet_nic()?;
        // The bootstrapped databases (schemas, keystone's admin and catalog, nova's
        // cells) and keystone's keys come from the cache when an earlier start made
        // them from the same inputs; else they are made and cached.
        let cache = db_cache_dir(fe.addr);
        let cached = cache.join("mysql-data.tar").exists();
        cloud.start_mariadb(cached.then_some(cache.as_path()))?;
        cloud.start_rabbitmq()?;
        cloud.start_ovs()?;
        cloud.wait_port(3306, Duration::from_secs(120), "mariadb")?;
        let step = |what: &str| {
            if timing() {
                eprintln!("cloud: {what} at {:?}", t0.elapsed());
            }
        };
        let t_db = t0.elapsed();
        if cached {
            untar(&cache.join("keystone-keys.tar"), &fe.path("/etc/keystone"))?;
            step("databases from the cache");
        } else {
            cloud.bootstrap_databases()?;
            step("schemas made");
        }
        let t_sync = t0.elapsed();
        cloud.spawn_wsgi("keystone", "keystone.wsgi.api", 5000)?;
        cloud.spawn_wsgi("placement", "placement.wsgi.api", 8778)?;
        cloud.wait_http(5000, Duration::from_secs(180), "keystone")?;
        step("keystone answers");
        if !cached {
            let out = cloud.run_in(
                fe,
                &format!("python3 {SCRIPTS}/catalog.py {} {ADMIN_PASSWORD}", fe.addr),
            );
            if !out.status.success() {
                bail!("cloud: catalog set-up failed:\n{}", explain(&out));
            }
            step("catalog made");
            cloud.save_db_cache(&cache)?;
            step("databases cached");
        }
        cloud.wait_port(5672, Duration::from_secs(180), "rabbitmq")?;
        step("rabbitmq listens");
        cloud.spawn_wsgi("nova-api", "nova.wsgi.osapi_compute", 8774)?;
        cloud.spawn_wsgi("neutron-api", "neutron.wsgi.api", 9696)?;
        cloud.spawn_in(fe, "nova-conductor", "nova-conductor")?;
        cloud.spawn_in(fe, "nova-scheduler", "nova-scheduler")?;
        let neutron_files = "--config-file /etc/neutron/neutron.conf \
                             --config-file /etc/neutron/plugins/ml2/ml2_conf.ini";
        cloud.spawn_in(
            fe,
            "neutron-rpc-server",
            &format!("neutron-rpc-server {neutron_files}"),
        )?;
        cloud.spawn_in(
            fe,
            "neutron-dhcp-agent",
            "neutron-dhcp-agent --config-file /etc/neutron/neutron.conf \
             --config-file /etc/neutron/dhcp_agent.ini",
        )?;
        for &i in computes {
            cloud.start_compute(i)?;
        }
        for (port, name) in [(8778, "placement"), (8774, "nova-api"), (9696, "neutron")] {
            cloud.wait_http(port, Duration::from_secs(240), name)?;
        }
        step("APIs answer");
        let computes: Vec<&str> = computes.iter().map(|&i| tb.host(i).name.as_str()).collect();
        cloud
            .wait_ready(&computes, 300)
            .context("cloud: services not ready")?;
        cloud.startup = t0.elapsed();
        if timing() {
            eprintln!(
                "cloud: db up {t_db:?}, schemas {t_sync:?}, ready {:?}",
                cloud.startup
            );
        }
        Ok(cloud)
    }

    /// The frontend (host 1).
    pub fn frontend(&self) -> &'a TestHost {
        self.tb.host(1)
    }

    /// The admin credentials file on the frontend ([`OPENRC`]), as the host sees it.
    pub fn admin_openrc(&self) -> PathBuf {
        self.frontend().path(OPENRC)
    }

    /// Run a shell command on the frontend with the admin credentials sourced and the
    /// venv on PATH (e.g. `openstack hypervisor list -f json`).
    pub fn admin(&self, shell_cmd: &str) -> Output {
        self.run_in(self.frontend(), &format!(". {OPENRC} && {shell_cmd}"))
    }

    /// [`Cloud::admin`], panicking unless it exits 0; returns stdout.
    pub fn admin_ok(&self, shell_cmd: &str) -> String {
        let out = self.admin(shell_cmd);
        assert!(
            out.status.success(),
            "cloud: {shell_cmd:?} failed:\n{}",
            explain(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Start nova-compute on compute host `index` (reporting as the host's name).
    pub fn start_compute(&mut self, index: usize) -> Result<()> {
        let h = self.tb.host(index);
        self.spawn_in(h, "nova-compute", "nova-compute")
    }

    /// Start a nova-compute on host `index` that reports as `name` (`[DEFAULT] host`,
    /// its own state and lock paths): a node whose nova.conf names it otherwise, or
    /// one of several fake compute nodes sharing a host's namespaces.
    pub fn start_compute_as(&mut self, index: usize, name: &str) -> Result<()> {
        let h = self.tb.host(index);
        let conf = format!("/etc/nova/as-{name}.conf");
        let p = h.path(&conf);
        fs::write(
            &p,
            format!(
                "[DEFAULT]\nhost = {name}\nstate_path = /var/lib/nova/as-{name}\n\
                 instances_path = /var/lib/nova/as-{name}/instances\n\
                 [oslo_concurrency]\nlock_path = /var/lib/nova/as-{name}/tmp\n"
            ),
        )?;
        fs::create_dir_all(h.path(&format!("/var/lib/nova/as-{name}/tmp")))?;
        fs::create_dir_all(h.path(&format!("/var/lib/nova/as-{name}/instances")))?;
        self.spawn_in(
            h,
            &format!("nova-compute-as-{name}"),
            &format!("nova-compute --config-file /etc/nova/nova.conf --config-file {conf}"),
        )
    }

    /// Stop every nova-compute on host `index` (started by the harness or by the
    /// systemctl stand-in); returns when none is left.
    pub fn stop_compute(&mut self, index: usize) -> Result<()> {
        let h = self.tb.host(index);
        let prefix = format!("{}:nova-compute", h.name);
        while let Some(i) = self
            .children
            .iter()
            .position(|(n, _)| n.starts_with(&prefix))
        {
            let (_, mut child) = self.children.remove(i);
            kill_tree(child.id());
            let _ = child.wait();
        }
        let out = h.exec(
            "for i in $(seq 100); do pgrep -f '[b]in/nova-compute' >/dev/null || exit 0; \
               pkill -9 -f '[b]in/nova-compute'; sleep 0.1; done; exit 1",
        );
        if !out.status.success() {
            bail!("{}: nova-compute does not stop", h.name);
        }
        Ok(())
    }

    /// Wait until nova lists nova-compute up on every host named (and the control
    /// services): `timeout` seconds at most.
    pub fn wait_computes_up(&mut self, names: &[&str], timeout: u64) -> Result<()> {
        self.wait_ready(names, timeout)
            .context("cloud: computes not up")
    }

    /// Poll nova (probe.py ready, in slices of 20 s) until it lists nova-compute up on
    /// every host named and the control services; before each slice, a daemon that
    /// exited fails the wait, except a nova-compute that hit [`NOVA_START_RACE`],
    /// which is started again.
    fn wait_ready(&mut self, names: &[&str], timeout: u64) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(timeout);
        loop {
            // First: nova lists a dead nova-compute up until its reports are late.
            self.check_children()?;
            let out = self.admin(&format!(
                "python3 {SCRIPTS}/probe.py ready 20 {}",
                names.join(" ")
            ));
            if out.status.success() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "not ready after {timeout} s:\n{}\n{}",
                    explain(&out),
                    self.log_tails()
                );
            }
        }
    }

    /// For the harness's self-test: host `index`'s nova-compute dies as nova 34's
    /// start-up race kills it (its log gets the race's message when `race`, then the
    /// process is killed; the harness's child stays, exited).
    pub fn crash_compute(&mut self, index: usize, race: bool) -> Result<()> {
        let h = self.tb.host(index);
        let name = format!("{}:nova-compute", h.name);
        if race {
            let mut log = fs::OpenOptions::new()
                .append(true)
                .open(h.root.join(&LOGS[1..]).join("nova-compute.log"))?;
            use std::io::Write;
            writeln!(
                log,
                "RuntimeError: {NOVA_START_RACE} (written by the harness's self-test)"
            )?;
        }
        let c = self
            .children
            .iter_mut()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| anyhow!("no {name}"))?;
        kill_tree(c.1.id());
        let _ = c.1.wait();
        Ok(())
    }

    /// How often the harness started host `index`'s nova-compute again after the race.
    pub fn race_restarts(&self, index: usize) -> usize {
        let name = format!("{}:nova-compute", self.tb.host(index).name);
        self.race_restarts.get(&name).copied().unwrap_or(0)
    }

    /// Stop rabbitmq (the node and its epmd): the services lose their message bus.
    pub fn stop_rabbitmq(&mut self) -> Result<()> {
        if let Some(i) = self.children.iter().position(|(n, _)| n == "rabbitmq") {
            let (_, mut child) = self.children.remove(i);
            kill_tree(child.id());
            let _ = child.wait();
        }
        // epmd daemonized itself: found by name among the frontend netns' processes.
        for pid in netns_pids(&self.frontend().netns) {
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if matches!(
                comm.trim(),
                "epmd" | "beam.smp" | "erl_child_setup" | "inet_gethost"
            ) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
        Ok(())
    }

    /// Start rabbitmq again (same data) and wait until it listens.
    pub fn restart_rabbitmq(&mut self) -> Result<()> {
        self.start_rabbitmq()?;
        self.wait_port(5672, Duration::from_secs(180), "rabbitmq")
    }

    /// The calls aerie (or anyone without the venv first on PATH) made of `tool`
    /// (`openstack`, `nova-manage`) on the frontend, as command lines with spaces.
    pub fn calls(&self, tool: &str) -> Vec<String> {
        let p = self.frontend().path(&format!("{LOGS}/calls/{tool}.log"));
        fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(|l| l.replace('\x1f', " "))
            .collect()
    }

    /// HTTP requests the API `name` (`keystone`, `placement`, `nova-api`,
    /// `neutron-api`) served so far to the OpenStack SDK and CLI (their user agent in
    /// its access log), not to the services themselves (nova-compute's reports,
    /// keystonemiddleware's token checks).
    pub fn api_requests(&self, name: &str) -> usize {
        let p = self.frontend().path(&format!("{LOGS}/{name}.access"));
        fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"openstacksdk/") || l.contains("\"python-openstackclient"))
            .count()
    }

    /// Start again every nova-compute of the harness's that exited (nova 34 can die
    /// at start-up under load: "dictionary changed size during iteration" in
    /// nova.context's cell cache, seen once among 50 starting at once); returns their
    /// names.
    pub fn restart_exited_computes(&mut self) -> Result<Vec<String>> {
        let mut exited = Vec::new();
        for (name, c) in &mut self.children {
            if name.contains(":nova-compute") && c.try_wait()?.is_some() {
                exited.push(name.clone());
            }
        }
        let mut again = Vec::new();
        for name in exited {
            self.kill_child(&name);
            let (host, what) = name.split_once(':').unwrap();
            let index = self.tb.host_by_name(host).map(|h| h.index).unwrap();
            match what.strip_prefix("nova-compute-as-") {
                Some(as_name) => self.start_compute_as(index, as_name)?,
                None => self.start_compute(index)?,
            }
            again.push(what.to_string());
        }
        Ok(again)
    }

    /// STAND-IN for a failing API, named: tests/cloud/fault_proxy.py on the frontend,
    /// `port` forwarding to the API on `upstream`, answering 500 to every request
    /// whose path contains `fail`. Point the catalog at it with [`Cloud::admin_ok`]
    /// (`openstack endpoint set --url ...`); [`Cloud::stop_fault_proxy`] ends it.
    pub fn start_fault_proxy(&mut self, port: u16, upstream: u16, fail: &str) -> Result<()> {
        let fe = self.frontend();
        let addr = fe.addr;
        self.spawn_in(
            fe,
            "fault-proxy",
            &format!("python3 {SCRIPTS}/fault_proxy.py {addr} {port} {upstream} '{fail}'"),
        )?;
        self.wait_port(port, Duration::from_secs(60), "the fault proxy")
    }

    pub fn stop_fault_proxy(&mut self) {
        if let Some(i) = self
            .children
            .iter()
            .position(|(n, _)| n.ends_with(":fault-proxy"))
        {
            let (_, mut child) = self.children.remove(i);
            kill_tree(child.id());
            let _ = child.wait();
        }
    }

    /// STAND-IN for the L2 agent (see the module header): wait until neutron's DHCP
    /// port of `network` is plugged into OVS, then tag it with the network's VLAN.
    pub fn wire_dhcp_ports(&self, network: &str) -> Result<()> {
        let out = self.admin(&format!(
            "python3 {SCRIPTS}/probe.py dhcp-ports 120 {network}"
        ));
        if !out.status.success() {
            bail!(
                "cloud: no DHCP port for {network}:\n{}\n{}",
                explain(&out),
                self.log_tails()
            );
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        for line in text.lines() {
            let Some((tap, vlan)) = line.split_once(' ') else {
                continue;
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let o = self.vsctl(&["--if-exists", "get", "Port", tap, "name"])?;
                if o.status.success() && !o.stdout.is_empty() {
                    break;
                }
                if Instant::now() > deadline {
                    bail!("cloud: DHCP port {tap} never appeared in OVS");
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            let tag = format!("tag={vlan}");
            let o = self.vsctl(&[
                "clear",
                "Port",
                tap,
                "trunks",
                "--",
                "set",
                "Port",
                tap,
                &tag,
                "vlan_mode=access",
            ])?;
            if !o.status.success() {
                bail!("cloud: tagging {tap}: {}", explain(&o));
            }
        }
        Ok(())
    }

    /// A DHCP client (busybox udhcpc, with a script that only prints) in a namespace of
    /// its own, on the lab bridge with its own OVS tagging VLAN `vlan`, with MAC `mac`
    /// (neutron's dnsmasq answers only the MACs of its ports). None: no lease.
    pub fn dhcp_offer(&mut self, vlan: u16, mac: &str) -> Result<Option<DhcpOffer>> {
        self.next_client += 1;
        // Numbered past the testbed's hosts, so the testbed's teardown and its sweep of
        // stale testbeds take this namespace too.
        let lab = self.tb.lab_netns();
        let prefix = lab.strip_suffix('l').unwrap_or(lab);
        let ns = format!("{prefix}h{}", 9000 + self.next_client);
        let veth = format!("dc{}", self.next_client);
        let cdir = self.dir.join(format!("client{}", self.next_client));
        fs::create_dir_all(&cdir)?;
        let script = cdir.join("print.sh");
        fs::write(
            &script,
            "#!/bin/sh\necho \"event=$1 ip=$ip router=$router subnet=$subnet\"\n",
        )?;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755))?;
        let result = (|| -> Result<Option<DhcpOffer>> {
            sh(&format!(
                "ip netns add {ns} && ip -n {lab} link add {veth} type veth peer name eth0 netns {ns} && \
                 ip -n {lab} link set {veth} master br0 up && ip -n {ns} link set lo up && \
                 ip -n {ns} link set eth0 up"
            ))?;
            self.ovs_instance(&ns, &cdir)?;
            let db = format!("unix:{}/db.sock", cdir.display());
            sh(&format!(
                "ip netns exec {ns} ovs-vsctl --db={db} add-br brc -- set bridge brc datapath_type=netdev \
                 -- add-port brc eth0 -- add-port brc client tag={vlan} -- set Interface client type=internal && \
                 ip -n {ns} link set client address {mac} && ip -n {ns} link set client up"
            ))?;
            let out = Command::new("ip")
                .args(["netns", "exec", &ns, "busybox", "udhcpc", "-i", "client"])
                .args(["-f", "-q", "-n", "-t", "5", "-T", "1", "-s"])
                .arg(&script)
                .output()?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            Ok(text
                .lines()
                .find(|l| l.starts_with("event=bound"))
                .map(|l| {
                    let field = |k: &str| {
                        l.split_whitespace()
                            .find_map(|w| w.strip_prefix(&format!("{k}=")))
                            .unwrap_or("")
                            .to_string()
                    };
                    DhcpOffer {
                        ip: field("ip"),
                        router: field("router"),
                        subnet: field("subnet"),
                    }
                }))
        })();
        kill_netns(&ns);
        let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        let _ = fs::remove_dir_all(&cdir);
        result
    }

    /// Stop everything the cloud started; report what could not be cleaned.
    pub fn stop(mut self) -> Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let mut problems = Vec::new();
        // Inside each host: every process of its PID namespace but sshd is the cloud's
        // (services, their workers, privsep daemons, dnsmasq); then neutron's namespaces
        // and the venv mount.
        for h in self.tb.hosts() {
            kill_in_pidns(h);
            let out =
                h.exec("for n in $(ip netns list | cut -d' ' -f1); do ip netns del $n; done; true");
            if !out.status.success() {
                problems.push(format!("{}: {}", h.name, explain(&out)));
            }
        }
        // Machine-side daemons in the frontend's netns (mariadb, rabbitmq + epmd, OVS).
        let fe_ns = self.frontend().netns.clone();
        let sshd_pidns = self
            .frontend()
            .sshd_pid()
            .and_then(|p| fs::read_link(format!("/proc/{p}/ns/pid")).ok());
        for pid in netns_pids(&fe_ns) {
            let pidns = fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
            if pidns.is_some() && pidns != sshd_pidns {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
        for (_, mut c) in self.children.drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["-n", &fe_ns, "link", "del", "eth1"])
            .output();
        for h in self.tb.hosts() {
            if let Some(pid) = h.sshd_pid() {
                let _ = Command::new("nsenter")
                    .args(["-t", &pid.to_string(), "-m", "--", "umount", "-l"])
                    .arg(h.root.join(&VENV[1..]))
                    .output();
            }
        }
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            problems.push(format!("{}: {e}", self.dir.display()));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("cloud stop: {}", problems.join("; "))
        }
    }

    // ---------------------------------------------------------------------------------
    // Bring-up parts.

    /// The venv bind-mounted read-only at [`VENV`], the CLI tools on PATH, the config
    /// files with this host's name and the frontend's address.
    fn prepare_host(&self, h: &TestHost) -> Result<()> {
        let fe = self.tb.host(1);
        mount_venv(h)?;
        let (lo, hi) = VLAN_RANGE;
        let subst = |t: &str| {
            t.replace("@FE@", &fe.addr.to_string())
                .replace("@HOST@", &h.name)
                .replace("@HOST_ADDR@", &h.addr.to_string())
                .replace("@DB_PASSWORD@", DB_PASSWORD)
                .replace("@ADMIN_PASSWORD@", ADMIN_PASSWORD)
                .replace("@PHYSNET@", &format!("{PHYSNET}:{lo}:{hi}"))
        };
        let mut files: Vec<(&str, String, u32)> = vec![
            ("/etc/nova/nova.conf", subst(NOVA_CONF), 0o640),
            (
                "/etc/nova/api-paste.ini",
                fs::read_to_string(format!("{VENV}/etc/nova/api-paste.ini"))?,
                0o644,
            ),
        ];
        if h.index == 1 {
            files.extend([
                ("/etc/keystone/keystone.conf", subst(KEYSTONE_CONF), 0o640),
                (
                    "/etc/placement/placement.conf",
                    subst(PLACEMENT_CONF),
                    0o640,
                ),
                ("/etc/neutron/neutron.conf", subst(NEUTRON_CONF), 0o640),
                (
                    "/etc/neutron/plugins/ml2/ml2_conf.ini",
                    subst(ML2_CONF),
                    0o640,
                ),
                ("/etc/neutron/dhcp_agent.ini", subst(DHCP_AGENT_INI), 0o640),
                (
                    "/etc/aerie-test/cloud/db-sync.sh",
                    DB_SYNC.to_string(),
                    0o755,
                ),
                (
                    "/etc/aerie-test/cloud/catalog.py",
                    CATALOG.to_string(),
                    0o644,
                ),
                ("/etc/aerie-test/cloud/wsgi.py", WSGI.to_string(), 0o644),
                ("/etc/aerie-test/cloud/probe.py", PROBE.to_string(), 0o644),
                (
                    "/etc/aerie-test/cloud/fault_proxy.py",
                    FAULT_PROXY.to_string(),
                    0o644,
                ),
                (OPENRC, openrc(fe.addr), 0o600),
            ]);
        }
        for (path, text, mode) in files {
            let p = h.root.join(&path[1..]);
            fs::create_dir_all(p.parent().unwrap())?;
            fs::write(&p, text)?;
            fs::set_permissions(&p, fs::Permissions::from_mode(mode))?;
        }
        // The tools aerie runs on the frontend, and sudo's privsep-helper (sudo's
        // secure_path has /usr/local/bin, not the venv).
        let links = if h.index == 1 {
            &["openstack", "nova-manage", "privsep-helper"][..]
        } else {
            &["privsep-helper"][..]
        };
        let mut script = format!(
            "mkdir -p {LOGS}/calls /var/lib/nova/tmp /var/lib/nova/instances /var/lib/neutron/tmp"
        );
        for l in links {
            script.push_str(&format!(" && ln -sf {VENV}/bin/{l} /usr/local/bin/{l}"));
        }
        if h.index == 1 {
            // What aerie runs (over SSH: /usr/local/bin before the venv is not on its
            // PATH) is counted: one line per call in LOGS/calls/<tool>.log.
            for tool in ["openstack", "nova-manage"] {
                let p = h.root.join(format!("usr/local/bin/{tool}"));
                let _ = fs::remove_file(&p);
                fs::create_dir_all(p.parent().unwrap())?;
                fs::write(&p, counting_wrapper(tool))?;
                fs::set_permissions(&p, fs::Permissions::from_mode(0o755))?;
            }
            script = script.replace(
                &format!(" && ln -sf {VENV}/bin/openstack /usr/local/bin/openstack"),
                "",
            );
            script = script.replace(
                &format!(" && ln -sf {VENV}/bin/nova-manage /usr/local/bin/nova-manage"),
                "",
            );
        } else {
            let p = h.root.join("usr/bin/systemctl");
            let _ = fs::remove_file(&p);
            fs::write(&p, SYSTEMCTL_STANDIN.replace("@PATH@", PATH_IN_HOST))?;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755))?;
        }
        let out = h.exec(&script);
        if !out.status.success() {
            bail!("{}: preparing the cloud: {}", h.name, explain(&out));
        }
        Ok(())
    }

    /// After host `index`'s sshd was restarted (a new host key: the testbed restarts
    /// it in fresh namespaces, and every process of the host is gone): the venv is
    /// mounted again, so the host runs the cloud's programs as before.
    pub fn host_restarted(&mut self, index: usize) -> Result<()> {
        let h = self.tb.host(index);
        let prefix = format!("{}:", h.name);
        self.children.retain_mut(|(n, c)| {
            let dead = n.starts_with(&prefix) && c.try_wait().ok().flatten().is_some();
            !dead
        });
        mount_venv(h)
    }

    /// The frontend's physnet NIC: `eth1`, a veth on the lab bridge.
    fn add_physnet_nic(&self) -> Result<()> {
        let fe = self.frontend();
        let lab = self.tb.lab_netns();
        sh(&format!(
            "ip -n {lab} link add pn1 type veth peer name eth1 netns {ns} && \
             ip -n {lab} link set pn1 master br0 up && ip -n {ns} link set eth1 up",
            ns = fe.netns
        ))
    }

    /// Schemas of every service, keystone's admin, nova's cells (tests/cloud/db-sync.sh).
    fn bootstrap_databases(&mut self) -> Result<()> {
        let fe = self.frontend();
        self.mysql(&format!(
            "CREATE DATABASE IF NOT EXISTS keystone; CREATE DATABASE IF NOT EXISTS placement; \
             CREATE DATABASE IF NOT EXISTS nova_api; CREATE DATABASE IF NOT EXISTS nova; \
             CREATE DATABASE IF NOT EXISTS nova_cell0; CREATE DATABASE IF NOT EXISTS neutron; \
             CREATE USER IF NOT EXISTS 'openstack'@'%' IDENTIFIED BY '{DB_PASSWORD}'; \
             GRANT ALL ON *.* TO 'openstack'@'%';"
        ))?;
        let out = self.run_in(
            fe,
            &format!(
                "sh {SCRIPTS}/db-sync.sh {ADMIN_PASSWORD} {} {LOGS}/db-sync",
                fe.addr
            ),
        );
        if !out.status.success() {
            bail!("cloud: schema set-up failed:\n{}", explain(&out));
        }
        Ok(())
    }

    /// Keep the freshly bootstrapped databases for the next start: keystone and
    /// placement stopped, mariadb shut down cleanly, its datadir and keystone's keys
    /// tarred into `cache` (made whole in a temp dir, then renamed), then all three
    /// started again.
    fn save_db_cache(&mut self, cache: &Path) -> Result<()> {
        self.kill_child("host1:keystone");
        self.kill_child("host1:placement");
        let d = self.dir.join("mysql");
        run(Command::new("mariadb-admin")
            .args(["--no-defaults", "-u", "root", "-S"])
            .arg(d.join("mysql.sock"))
            .arg("shutdown"))?;
        if let Some(i) = self.children.iter().position(|(n, _)| n == "mariadb") {
            let (_, mut child) = self.children.remove(i);
            let _ = child.wait();
        }
        let parent = cache.parent().unwrap();
        fs::create_dir_all(parent)?;
        let tmp = tempfile::tempdir_in(parent)?;
        run(Command::new("tar")
            .arg("-C")
            .arg(d.join("data"))
            .arg("-cf")
            .arg(tmp.path().join("mysql-data.tar"))
            .arg("."))?;
        run(Command::new("tar")
            .arg("-C")
            .arg(self.frontend().path("/etc/keystone"))
            .arg("-cf")
            .arg(tmp.path().join("keystone-keys.tar"))
            .args(["fernet-keys", "credential-keys"]))?;
        let tmp = tmp.keep();
        if fs::rename(&tmp, cache).is_err() {
            // Another process cached the same inputs first.
            let _ = fs::remove_dir_all(&tmp);
        }
        self.start_mariadb(None)?;
        self.wait_port(3306, Duration::from_secs(120), "mariadb")?;
        self.spawn_wsgi("keystone", "keystone.wsgi.api", 5000)?;
        self.spawn_wsgi("placement", "placement.wsgi.api", 8778)?;
        self.wait_http(5000, Duration::from_secs(180), "keystone")
    }

    /// Kill the daemon the harness spawned as `name` (and its children).
    fn kill_child(&mut self, name: &str) {
        while let Some(i) = self.children.iter().position(|(n, _)| n == name) {
            let (_, mut child) = self.children.remove(i);
            kill_tree(child.id());
            let _ = child.wait();
        }
    }

    /// mariadb in the frontend's netns; its datadir made by mariadb-install-db, or
    /// unpacked from `cache`, or (None, after a clean shutdown) the one already there.
    fn start_mariadb(&mut self, cache: Option<&Path>) -> Result<()> {
        let d = self.dir.join("mysql");
        if !d.join("data").exists() {
            fs::create_dir_all(d.join("data"))?;
            match cache {
                Some(c) => untar(&c.join("mysql-data.tar"), &d.join("data"))?,
                None => {
                    run(Command::new("mariadb-install-db")
                        .args(["--no-defaults", "--user=root", "--skip-test-db"])
                        .arg("--auth-root-authentication-method=normal")
                        .arg(format!("--datadir={}", d.join("data").display())))?;
                }
            }
        }
        let fe = self.frontend();
        let mut c = Command::new("ip");
        c.args([
            "netns",
            "exec",
            &fe.netns,
            "mariadbd",
            "--no-defaults",
            "--user=root",
        ])
        .arg(format!("--datadir={}", d.join("data").display()))
        .arg(format!("--socket={}", d.join("mysql.sock").display()))
        .arg(format!("--pid-file={}", d.join("mysql.pid").display()))
        .arg(format!("--bind-address={}", fe.addr))
        .args([
            "--port=3306",
            "--skip-name-resolve",
            "--max-connections=1000",
        ])
        .args([
            "--innodb-buffer-pool-size=128M",
            "--innodb-log-file-size=32M",
        ])
        .args(["--innodb-flush-log-at-trx-commit=0", "--skip-log-bin"])
        .arg("--innodb-flush-method=fsync")
        .arg(format!("--log-error={}", d.join("error.log").display()));
        self.spawn_machine("mariadb", c)
    }

    fn start_rabbitmq(&mut self) -> Result<()> {
        let d = self.dir.join("rabbitmq");
        fs::create_dir_all(d.join("mnesia"))?;
        fs::create_dir_all(d.join("log"))?;
        // guest may log in from the compute hosts (not only from localhost).
        fs::write(d.join("rabbitmq.conf"), "loopback_users = none\n")?;
        fs::write(d.join("enabled_plugins"), "[].\n")?;
        run(Command::new("chown")
            .args(["-R", "rabbitmq:rabbitmq"])
            .arg(&d))?;
        let fe = self.frontend();
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &fe.netns, "env"])
            .arg(format!("HOME={}", d.display()))
            .arg("RABBITMQ_NODENAME=rabbit@localhost")
            .arg(format!("RABBITMQ_NODE_IP_ADDRESS={}", fe.addr))
            .args(["RABBITMQ_NODE_PORT=5672", "RABBITMQ_DIST_PORT=25672"])
            .arg("ERL_EPMD_ADDRESS=127.0.0.1")
            .arg(format!(
                "RABBITMQ_MNESIA_BASE={}",
                d.join("mnesia").display()
            ))
            .arg(format!("RABBITMQ_LOG_BASE={}", d.join("log").display()))
            .arg(format!("RABBITMQ_PID_FILE={}", d.join("pid").display()))
            .arg(format!(
                "RABBITMQ_CONFIG_FILE={}",
                d.join("rabbitmq").display()
            ))
            .arg(format!(
                "RABBITMQ_ENABLED_PLUGINS_FILE={}",
                d.join("enabled_plugins").display()
            ))
            .args([
                "setpriv",
                "--reuid=rabbitmq",
                "--regid=rabbitmq",
                "--init-groups",
            ])
            .arg("/usr/lib/rabbitmq/bin/rabbitmq-server");
        self.spawn_machine("rabbitmq", c)
    }

    /// ovsdb-server + ovs-vswitchd (userspace datapath) in the frontend's netns, with
    /// `br-int` and the physnet NIC `eth1` on it as a trunk.
    fn start_ovs(&mut self) -> Result<()> {
        let fe_ns = self.frontend().netns.clone();
        let d = self.dir.join("ovs");
        fs::create_dir_all(&d)?;
        self.ovs_instance(&fe_ns, &d)?;
        let db = format!("unix:{}/db.sock", d.display());
        sh(&format!(
            "ip netns exec {fe_ns} ovs-vsctl --db={db} --timeout=60 add-br br-int \
             -- set bridge br-int datapath_type=netdev -- add-port br-int eth1"
        ))?;
        // Neutron's agents speak OVSDB over TCP inside the frontend.
        sh(&format!(
            "ip netns exec {fe_ns} ovs-vsctl --db={db} --timeout=60 set-manager ptcp:6640:127.0.0.1"
        ))
    }

    /// One OVS (db + vswitchd, `--detach`ed into namespace `ns`) with its files in `d`.
    fn ovs_instance(&self, ns: &str, d: &Path) -> Result<()> {
        let db = d.join("conf.db");
        run(Command::new("ovsdb-tool")
            .arg("create")
            .arg(&db)
            .arg("/usr/share/openvswitch/vswitch.ovsschema"))?;
        let dd = d.display();
        sh(&format!(
            "export OVS_RUNDIR={dd} OVS_LOGDIR={dd} OVS_DBDIR={dd} && \
             ip netns exec {ns} ovsdb-server {dd}/conf.db --remote=punix:{dd}/db.sock \
               --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
               --pidfile={dd}/ovsdb.pid --unixctl={dd}/ovsdb.ctl --log-file={dd}/ovsdb.log \
               --detach --no-chdir && \
             ip netns exec {ns} ovs-vsctl --db=unix:{dd}/db.sock --no-wait init && \
             ip netns exec {ns} ovs-vswitchd unix:{dd}/db.sock --disable-system \
               --pidfile={dd}/vswitchd.pid --unixctl={dd}/vswitchd.ctl \
               --log-file={dd}/vswitchd.log --detach --no-chdir"
        ))
    }

    fn vsctl(&self, args: &[&str]) -> Result<Output> {
        let d = self.dir.join("ovs");
        Ok(Command::new("ip")
            .args(["netns", "exec", &self.frontend().netns, "ovs-vsctl"])
            .arg(format!("--db=unix:{}/db.sock", d.display()))
            .arg("--timeout=30")
            .args(args)
            .output()?)
    }

    /// Run SQL as mariadb's root on the cloud's database; the rows, tab-separated, one a
    /// line, no headers.
    pub fn sql(&self, sql: &str) -> String {
        let sock = self.dir.join("mysql/mysql.sock");
        let out = run(Command::new("mariadb")
            .args(["--no-defaults", "-u", "root", "-N", "-B", "-S"])
            .arg(&sock)
            .args(["-e", sql]))
        .expect("cloud sql");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// What a registration may change in nova, to compare before and after: host
    /// mappings, flavors and their extra specs, compute nodes, nova-compute services.
    pub fn nova_snapshot(&self) -> String {
        self.sql(
            "SELECT host, cell_id FROM nova_api.host_mappings ORDER BY host; \
             SELECT name, flavorid, vcpus, memory_mb, root_gb FROM nova_api.flavors ORDER BY name; \
             SELECT f.name, s.`key`, s.value FROM nova_api.flavor_extra_specs s \
               JOIN nova_api.flavors f ON f.id = s.flavor_id ORDER BY f.name, s.`key`; \
             SELECT host, hypervisor_hostname, mapped, deleted FROM nova.compute_nodes ORDER BY id; \
             SELECT id, host, deleted FROM nova.services WHERE `binary` = 'nova-compute' ORDER BY id",
        )
    }

    /// What `aerie networks` may change in neutron, to compare before and after:
    /// networks with their provider segments, subnets with their revision, pools and
    /// DNS servers.
    pub fn neutron_snapshot(&self) -> String {
        self.sql(
            "SELECT n.id, n.name, g.network_type, g.physical_network, g.segmentation_id \
               FROM neutron.networks n JOIN neutron.networksegments g ON g.network_id = n.id ORDER BY n.name; \
             SELECT s.id, s.name, s.network_id, s.cidr, s.gateway_ip, s.enable_dhcp, a.revision_number \
               FROM neutron.subnets s JOIN neutron.standardattributes a ON a.id = s.standard_attr_id ORDER BY s.name; \
             SELECT p.first_ip, p.last_ip, s.name FROM neutron.ipallocationpools p \
               JOIN neutron.subnets s ON s.id = p.subnet_id ORDER BY s.name; \
             SELECT d.address, d.`order`, s.name FROM neutron.dnsnameservers d \
               JOIN neutron.subnets s ON s.id = d.subnet_id ORDER BY s.name, d.`order`",
        )
    }

    /// The hosts nova maps into its cell (nova_api.host_mappings), sorted.
    pub fn mapped_hosts(&self) -> Vec<String> {
        self.sql("SELECT host FROM nova_api.host_mappings ORDER BY host")
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The hypervisors nova's API lists ([`HYPERVISOR_LIST`]), by name, sorted.
    pub fn hypervisors(&self) -> Vec<String> {
        let hv = crate::harness::json(&self.admin_ok(&format!("openstack {HYPERVISOR_LIST}")));
        let mut names: Vec<String> = hv
            .as_array()
            .unwrap_or_else(|| panic!("no list: {hv:#}"))
            .iter()
            .map(|h| h["Hypervisor Hostname"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    fn mysql(&self, sql: &str) -> Result<()> {
        let sock = self.dir.join("mysql/mysql.sock");
        run(Command::new("mariadb")
            .args(["--no-defaults", "-u", "root", "-S"])
            .arg(&sock)
            .args(["-e", sql]))
        .map(|_| ())
    }

    fn spawn_machine(&mut self, name: &str, mut c: Command) -> Result<()> {
        let log = fs::File::create(self.dir.join(format!("{name}.log")))?;
        let child = c
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cloud: spawn {name}"))?;
        self.children.push((name.to_string(), child));
        Ok(())
    }

    /// `cmd` (a shell line) inside host `h`, in the background, logging to
    /// [`LOGS`]/`name`.log in the host.
    fn spawn_in(&mut self, h: &TestHost, name: &str, cmd: &str) -> Result<()> {
        let log_path = h.root.join(&LOGS[1..]).join(format!("{name}.log"));
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)?;
        let child = self
            .enter(h)?
            .args(["/bin/sh", "-c", &format!("exec {cmd}")])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cloud: spawn {name} in {}", h.name))?;
        self.children.push((format!("{}:{name}", h.name), child));
        Ok(())
    }

    fn spawn_wsgi(&mut self, name: &str, app: &str, port: u16) -> Result<()> {
        let fe = self.tb.host(1);
        let cmd = format!(
            "env AERIE_WSGI_APP={app} AERIE_WSGI_PROG={name} gunicorn --chdir {SCRIPTS} \
             -b {}:{port} -w 1 --threads 4 --timeout 300 --access-logfile {LOGS}/{name}.access \
             wsgi:application",
            fe.addr
        );
        self.spawn_in(fe, name, &cmd)
    }

    /// A command entering host `h` (as `TestHost::exec` does) with the cloud's
    /// environment; append the program.
    fn enter(&self, h: &TestHost) -> Result<Command> {
        let pid = h
            .sshd_pid()
            .ok_or_else(|| anyhow!("{}: sshd not running", h.name))?;
        let mut c = Command::new("setpriv");
        c.args(["--bounding-set", DROP_CAPS, "--inh-caps", "-all", "--"])
            .args(["nsenter", "-t", &pid.to_string()])
            .args(["-m", "-u", "-n", "-p", "-r", "-w", "--"])
            .args(["env", "-i", &format!("PATH={PATH_IN_HOST}")])
            .args(["HOME=/root", "LANG=C.UTF-8"]);
        Ok(c)
    }

    /// A shell command inside host `h` with the venv on PATH; waits for it.
    fn run_in(&self, h: &TestHost, shell_cmd: &str) -> Output {
        self.enter(h)
            .and_then(|mut c| {
                c.args(["/bin/sh", "-c", shell_cmd])
                    .stdin(Stdio::null())
                    .output()
                    .map_err(Into::into)
            })
            .unwrap_or_else(|e| panic!("{}: {shell_cmd:?}: {e}", h.name))
    }

    /// Wait until something listens on the frontend's address, `port`.
    fn wait_port(&mut self, port: u16, timeout: Duration, what: &str) -> Result<()> {
        let fe = self.frontend();
        let want = format!("{:08X}:{port:04X}", u32::from(fe.addr).swap_bytes());
        let pid = fe.sshd_pid().ok_or_else(|| anyhow!("frontend down"))?;
        let deadline = Instant::now() + timeout;
        loop {
            let tcp = fs::read_to_string(format!("/proc/{pid}/net/tcp")).unwrap_or_default();
            if tcp.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 3 && f[1] == want && f[3] == "0A"
            }) {
                return Ok(());
            }
            self.check_children()?;
            if Instant::now() > deadline {
                bail!(
                    "cloud: {what} not listening on port {port} in time\n{}",
                    self.log_tails()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wait until the API on `port` answers HTTP (any status).
    fn wait_http(&mut self, port: u16, timeout: Duration, what: &str) -> Result<()> {
        let fe_ns = self.frontend().netns.clone();
        let url = format!("http://{}:{port}/", self.frontend().addr);
        let deadline = Instant::now() + timeout;
        loop {
            let out = Command::new("ip")
                .args(["netns", "exec", &fe_ns, "curl", "-s", "-o", "/dev/null"])
                .args(["-m", "10", "-w", "%{http_code}", &url])
                .output()?;
            let code = String::from_utf8_lossy(&out.stdout).to_string();
            if out.status.success() && code != "000" && !code.starts_with('5') {
                return Ok(());
            }
            self.check_children()?;
            if Instant::now() > deadline {
                bail!(
                    "cloud: {what} does not answer on {url} in time\n{}",
                    self.log_tails()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Fail early when a daemon exited; a nova-compute that died of nova 34's
    /// start-up race is started again instead ([`NOVA_START_RACE`]).
    fn check_children(&mut self) -> Result<()> {
        let mut exited = Vec::new();
        for (name, c) in &mut self.children {
            if let Some(st) = c.try_wait()? {
                exited.push((name.clone(), st));
            }
        }
        for (name, st) in exited {
            if !self.restart_after_start_race(&name)? {
                bail!("cloud: {name} exited ({st})\n{}", self.log_tails());
            }
        }
        Ok(())
    }

    /// If the exited child `name` is a nova-compute whose log shows one more
    /// [`NOVA_START_RACE`] than it was restarted for, start it again (saying so)
    /// and return true.
    fn restart_after_start_race(&mut self, name: &str) -> Result<bool> {
        let Some((host, what)) = name.split_once(':') else {
            return Ok(false);
        };
        if !what.starts_with("nova-compute") {
            return Ok(false);
        }
        let Some(h) = self.tb.host_by_name(host) else {
            return Ok(false);
        };
        let log = h.root.join(&LOGS[1..]).join(format!("{what}.log"));
        let crashes = fs::read_to_string(&log)
            .unwrap_or_default()
            .matches(NOVA_START_RACE)
            .count();
        let restarts = self.race_restarts.get(name).copied().unwrap_or(0);
        if crashes <= restarts || restarts >= RACE_RESTARTS {
            return Ok(false);
        }
        self.race_restarts.insert(name.to_string(), restarts + 1);
        eprintln!(
            "cloud: {name} died at start-up of nova 34's race (\"{NOVA_START_RACE}\" in {}); \
             started again ({} of at most {RACE_RESTARTS})",
            log.display(),
            restarts + 1
        );
        let index = h.index;
        self.kill_child(name);
        match what.strip_prefix("nova-compute-as-") {
            Some(as_name) => self.start_compute_as(index, as_name)?,
            None => self.start_compute(index)?,
        }
        Ok(true)
    }

    /// The last lines of every service log (for failure messages).
    pub fn log_tails(&self) -> String {
        let mut s = String::new();
        let mut logs: Vec<PathBuf> = Vec::new();
        for h in self.tb.hosts() {
            let d = h.root.join(&LOGS[1..]);
            for e in fs::read_dir(&d).into_iter().flatten().flatten() {
                logs.push(e.path());
            }
        }
        for e in fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            if e.path().extension().is_some_and(|x| x == "log") {
                logs.push(e.path());
            }
        }
        for p in logs {
            let text = fs::read_to_string(&p).unwrap_or_default();
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| !l.contains("Deprecat") && !l.contains("eventlet"))
                .collect();
            let tail = &lines[lines.len().saturating_sub(8)..];
            s.push_str(&format!("--- {}\n{}\n", p.display(), tail.join("\n")));
        }
        s
    }
}

impl Drop for Cloud<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.stop_inner() {
            eprintln!("{e:#}");
        }
    }
}

/// Where the bootstrapped databases of a cloud whose frontend is `fe` are cached:
/// named by a hash of everything that goes into them (the pinned requirements, the
/// services' configs, the bootstrap scripts, the passwords, the address in the
/// catalog, mariadb's version), so a change to any of them makes a new entry.
fn db_cache_dir(fe: Ipv4Addr) -> PathBuf {
    use sha2::{Digest, Sha256};
    let mariadb = Command::new("mariadbd")
        .arg("--version")
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default();
    let mut h = Sha256::new();
    for part in [
        REQUIREMENTS,
        KEYSTONE_CONF,
        PLACEMENT_CONF,
        NOVA_CONF,
        NEUTRON_CONF,
        ML2_CONF,
        DB_SYNC,
        CATALOG,
        DB_PASSWORD,
        ADMIN_PASSWORD,
        &fe.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(&mariadb);
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    PathBuf::from(DB_CACHE).join(hex)
}

fn untar(tar: &Path, into: &Path) -> Result<()> {
    fs::create_dir_all(into)?;
    run(Command::new("tar").arg("-C").arg(into).arg("-xf").arg(tar)).map(|_| ())
}

/// The venv, read-only at [`VENV`] in host `h` (its sshd's mount namespace).
fn mount_venv(h: &TestHost) -> Result<()> {
    let target = h.root.join(&VENV[1..]);
    fs::create_dir_all(&target)?;
    let pid = h
        .sshd_pid()
        .ok_or_else(|| anyhow!("{}: sshd not running", h.name))?;
    run(Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-m", "--"])
        .args(["mount", "--bind", "-o", "ro"])
        .arg(VENV)
        .arg(&target))
    .map(|_| ())
}

/// The frontend's `openstack` / `nova-manage` as aerie finds them: the call recorded
/// (arguments separated by 0x1f, one call a line), then the real tool.
fn counting_wrapper(tool: &str) -> String {
    format!(
        "#!/bin/sh\n\
         # aerie test bed (tests/support/cloud.rs): counts the calls, then the real {tool}.\n\
         {{ sep=''; for a in \"$@\"; do printf '%s%s' \"$sep\" \"$a\"; sep=$(printf '\\037'); done; printf '\\n'; }} >> {LOGS}/calls/{tool}.log\n\
         exec {VENV}/bin/{tool} \"$@\"\n"
    )
}

/// STAND-IN for systemd's `systemctl` on the compute hosts (no systemd in a test host).
const SYSTEMCTL_STANDIN: &str = r#"#!/bin/sh
# aerie test bed STAND-IN for systemctl (tests/support/cloud.rs): the test hosts run no
# systemd. Records the call in /var/log/aerie-standin/systemctl.log; `restart
# openstack-nova-compute` restarts this host's nova-compute the way the harness starts
# it (a reinstalled node's fresh nova-compute); anything else changes nothing.
mkdir -p /var/log/aerie-standin
{ sep=''; for a in "$@"; do printf '%s%s' "$sep" "$a"; sep=$(printf '\037'); done; printf '\n'; } >> /var/log/aerie-standin/systemctl.log
if [ "$*" = 'restart openstack-nova-compute' ]; then
  for i in $(seq 100); do
    pgrep -f '[b]in/nova-compute' >/dev/null || break
    pkill -9 -f '[b]in/nova-compute'; sleep 0.1
  done
  setsid env -i PATH=@PATH@ HOME=/root LANG=C.UTF-8 nova-compute \
    >>/var/log/aerie-cloud/nova-compute.log 2>&1 </dev/null &
fi
exit 0
"#;

fn openrc(fe: Ipv4Addr) -> String {
    format!(
        "# aerie test bed: admin credentials of the test cloud\n\
         export OS_AUTH_URL=http://{fe}:5000/v3\n\
         export OS_USERNAME=admin\n\
         export OS_PASSWORD={ADMIN_PASSWORD}\n\
         export OS_PROJECT_NAME=admin\n\
         export OS_USER_DOMAIN_NAME=Default\n\
         export OS_PROJECT_DOMAIN_NAME=Default\n\
         export OS_IDENTITY_API_VERSION=3\n\
         export OS_REGION_NAME=RegionOne\n"
    )
}

pub fn explain(out: &Output) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(cmd: &mut Command) -> Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cloud: run {cmd:?}"))?;
    if !out.status.success() {
        bail!("cloud: {cmd:?} failed: {}", explain(&out));
    }
    Ok(out)
}

fn sh(script: &str) -> Result<()> {
    run(Command::new("sh").args(["-c", script])).map(|_| ())
}

fn netns_pids(ns: &str) -> Vec<u32> {
    Command::new("ip")
        .args(["netns", "pids", ns])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn kill_netns(ns: &str) {
    for _ in 0..50 {
        let pids = netns_pids(ns);
        if pids.is_empty() {
            return;
        }
        for p in pids {
            let _ = Command::new("kill").args(["-9", &p.to_string()]).status();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGKILL every process in host `h`'s PID namespace except sshd (its PID 1 and
/// sessions), until none is left.
fn kill_in_pidns(h: &TestHost) {
    let Some(sshd) = h.sshd_pid() else {
        return;
    };
    let Ok(ns) = fs::read_link(format!("/proc/{sshd}/ns/pid")) else {
        return;
    };
    for _ in 0..100 {
        let mut left = 0;
        for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if fs::read_link(format!("/proc/{pid}/ns/pid")).ok().as_ref() != Some(&ns) {
                continue;
            }
            let exe = fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            if exe.ends_with("usr/sbin/sshd") {
                continue;
            }
            // Zombies have no exe; they go when their parent reaps them.
            if exe.as_os_str().is_empty() {
                continue;
            }
            left += 1;
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        if left == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGKILL `pid` and all its descendants (children first collected, then killed).
fn kill_tree(pid: u32) {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let p = all[i];
        let kids = fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        all.extend(
            kids.split_whitespace()
                .filter_map(|s| s.parse::<u32>().ok()),
        );
        i += 1;
    }
    for p in all.iter().rev() {
        let _ = Command::new("kill").args(["-9", &p.to_string()]).status();
    }
}
