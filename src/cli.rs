//! The whole command line of aerie, in one place. Doc comments are the help text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// aerie: install and configure a bare-metal cloud from one site file.
///
/// Describe the cloud once in site.yaml (`aerie init` asks for it), check it
/// with `aerie validate`, then deliver it by installer ISO, over SSH, or to a
/// laptop lab.
#[derive(Debug, Parser)]
#[command(
    name = "aerie",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a site file: every error names its key and the fix.
    ///
    /// Exit status: 0 valid (warnings allowed), 65 invalid, 66 unreadable, 64 bad usage.
    Validate(ValidateArgs),
    /// Write a site file by answering questions (or from an answers file or an example).
    Init(InitArgs),
    /// List the example sites built into aerie.
    Examples,
    /// Write every node's kickstart, bundle and files into a directory.
    ///
    /// DIR/HOST/ks.cfg, DIR/HOST/bundle.json, DIR/HOST/actions.txt and
    /// DIR/HOST/root/PATH for every file the node gets (shared files edited
    /// by aerie are shown applied to an empty file), DIR/ks.cfg (one kickstart
    /// for every node, finding it by MAC) and DIR/plan.txt.
    /// Exit status: 0 written, 65 invalid site, 73 DIR not empty without --force.
    Render(RenderArgs),
    /// Validate and render a site into ./aerie-out, then say what to do next.
    ///
    /// The main job: `aerie build --example lab` or `aerie build site.yaml`.
    /// An earlier aerie output directory is replaced; anything else needs --force.
    Build(BuildArgs),
    /// Make aerie's installer ISO from a distribution's, or a small config ISO.
    ///
    /// `aerie iso SITE --base Rocky-9.iso -o aerie.iso` remasters the base
    /// (Rocky/Alma/CentOS Stream 9 or 10 layouts): its boot records, label and
    /// UUID are kept; the kickstarts go to /ks/, the site, per-node bundles and
    /// the aerie binary to /aerie/, and aerie's menu (Install Front-End,
    /// Install Compute Node, Install minimal OS, Rescue, Boot from local disk)
    /// into every boot menu the base has, including the one in its EFI image.
    ///
    /// `aerie iso SITE --config-only -o ks.iso` writes a small volume labelled
    /// OEMDRV with ks.cfg at its root, which a stock installer ISO picks up by
    /// itself; with --cidata a cloud-init NoCloud volume for one node.
    /// Needs xorriso (and mtools for --base). Exit status: 0 written, 65 invalid
    /// site or unusable base, 66 base missing, 69 xorriso or mtools missing, 73 output
    /// exists without --force.
    Iso(IsoArgs),
    /// Bring this host (or a root directory) in line with its bundle.
    ///
    /// Writes changed files atomically, applies the edits of shared files, and
    /// runs the commands whose trigger fires. Kickstart %post runs it with
    /// --install; the SSH road runs the same plan remotely.
    Converge(ConvergeArgs),
    /// A laptop lab: the site's nodes as VMs on this machine (nested KVM).
    ///
    /// `aerie lab up --example lab`, then `aerie lab status`, `aerie lab ssh fe1`,
    /// and `aerie lab down`, which removes exactly what `lab up` made. A
    /// Debian 12 site boots a disk image: `aerie lab up SITE --driver qemu
    /// --image DISK`.
    Lab {
        #[command(subcommand)]
        command: LabCommand,
    },
    /// Install nodes from the network: DHCP or proxy DHCP and TFTP (aerie's own
    /// dnsmasq child), iPXE, and the installer and kickstarts over aerie's HTTP server.
    ///
    /// `aerie pxe serve site.yaml --base Rocky-9.4-x86_64-dvd.iso` serves until
    /// Ctrl-C; `aerie pxe status` shows each node's step; a node that finished
    /// installing boots its local disk until `aerie pxe reinstall NODE`.
    /// The site's `netboot:` section says where and how (docs/pxe.md).
    Pxe {
        #[command(subcommand)]
        command: PxeCommand,
    },
    /// Bring running hosts to their bundles over SSH, in parallel, idempotently.
    ///
    /// Per host: read every bundle file, write the changed ones atomically (the
    /// previous version kept in /var/lib/aerie/backup/RUN-ID/ on the host), then
    /// run the actions whose files changed and the check-first actions.
    /// Host keys are pinned in aerie's own known-hosts file (see --known-hosts):
    /// an unknown key is refused unless --accept-new-host-keys (or a yes at a
    /// terminal), a changed key is always refused.
    ///
    /// Exit status: 0 every selected host ok or changed (with --check: compared),
    /// 2 at least one host failed or was unreachable (the report names them),
    /// 64 bad usage (e.g. --hosts names a node not in the site), 65 invalid site,
    /// 66 unreadable site.
    Apply(ApplyArgs),
    /// Make the cloud know its compute nodes, from the frontend, as the profile says.
    ///
    /// openstack: wait (up to --timeout) until each node's nova-compute reports
    /// up, run `nova-manage cell_v2 discover_hosts --verbose`, check each node is
    /// in `openstack hypervisor list`, then create the site's PCI passthrough
    /// flavor if it is absent. eucalyptus: copy the frontend's SSH key to the
    /// nodes, then register them the way the profile's release does
    /// (`euca_conf --register-nodes` for 3.x, `euserv-register-service` for 4.x+).
    /// A node the cloud knows already is left alone: a second run changes nothing.
    /// The commands run on the frontend over SSH, or here with --local (the
    /// frontend's own first boot).
    ///
    /// Exit status: 0 every selected node registered (now or before), 2 at least
    /// one node not registered or unreachable (the report says why, with the
    /// command's own message), 64 bad usage, 65 invalid site, 66 unreadable site.
    Register(RegisterArgs),
    /// Create the site's instances networks as the cloud's provider networks, from the frontend.
    ///
    /// openstack: each instances network becomes a Neutron network on the
    /// site's physnet (`site.physnet`, default physnet1): `--provider-network-type
    /// vlan` with its VLAN as `--provider-segment` (the one untagged network:
    /// flat), and a subnet `<network>-subnet` whose `--gateway` is the network's
    /// external gateway, allocation pool its dhcp-range and DNS servers the
    /// site's. Neutron's DHCP agent then offers that gateway to every instance
    /// as its router. Networks and subnets are found by name: one that exists as
    /// the site says is left alone (a second run changes nothing); one that
    /// differs is reported with what differs and how to fix it, never changed
    /// or recreated. The commands run on the frontend over SSH with the
    /// profile's credentials, or here with --local.
    ///
    /// Exit status: 0 every network created or present (with --check:
    /// compared), 2 at least one differs or failed, or the frontend was
    /// unreachable (the report says which and why), 64 bad usage (e.g. a profile
    /// without provider networks), 65 invalid site, 66 unreadable site.
    Networks(NetworksArgs),
    /// Drive the nodes' BMCs over Redfish: power, and boot once from an ISO or the network.
    ///
    /// Every node with a `bmc:` in the site (or those --nodes names), at most
    /// --parallel at a time; the password comes from the site's secrets file
    /// (`aerie bmc password`). TLS: the site's `tls-fingerprint` pin, else the
    /// system's CAs, else nothing unless --insecure. Busy BMCs (429, 5xx) and
    /// dropped connections are retried with backoff. Exit status: 0 every node
    /// done, 2 some node failed (each says why; the others were done), 64 bad
    /// usage or a missing password, 65 invalid site, 66 unreadable site.
    Bmc {
        #[command(subcommand)]
        command: BmcCommand,
    },
    /// Bring up the cloud of a kolla-profile site, step by step.
    ///
    /// Steps, in order: `hosts` (the host bundles over SSH, as `aerie apply`),
    /// `kolla` (Kolla's inputs rendered into the config dir, then, from the
    /// profile's kolla-ansible venv, `install-deps`, `bootstrap-servers`,
    /// `prechecks`, `deploy`, `post-deploy`), `networks` (the provider
    /// networks, as `aerie networks`), `register` (as `aerie register`).
    /// Progress per step and per host; a failed step names the play, task, host
    /// and Kolla's message, and prints the command that resumes from it
    /// (`--step`). Every step is idempotent: a rerun changes nothing.
    ///
    /// Exit status: 0 deployed, 2 a host or a Kolla task failed, 64 bad usage
    /// (a profile without `kolla:`), 65 invalid site, 69 kolla-ansible missing
    /// or of another version (the message says how to install the right one).
    Deploy(DeployArgs),
    /// One row per node: reachable, host key, bundle in sync, reboot required, registered.
    ///
    /// Changes nothing anywhere. Exit status: 0 every node reachable with its
    /// pinned key, in sync, registered and needing no reboot; 2 otherwise
    /// (the table says which); 64, 65, 66 as for apply.
    Status(StatusArgs),
    /// Check the hardware before installing: virtualization, IOMMU, SR-IOV, memory, disk, nested KVM.
    ///
    /// Reads /proc and /sys on each node over SSH and changes nothing. Every
    /// failed check names its remedy (a BIOS setting, adapter firmware, a reboot).
    /// Exit status: 0 every check passed on every node, 2 a check failed or a
    /// node was unreachable, 64, 65, 66 as for apply.
    Preflight(PreflightArgs),
    /// Show or forget the host keys aerie pinned.
    Hosts {
        #[command(subcommand)]
        command: HostsCommand,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write manual pages (one per command) into a directory, or print aerie(1).
    Man {
        /// Directory to write aerie.1 and aerie-COMMAND.1 into; without it, aerie.1 goes to stdout.
        #[arg(short, long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
}

/// Where the site comes from: a file, or a built-in example.
#[derive(Debug, Clone, Args)]
pub struct SiteArg {
    /// The site file.
    #[arg(
        value_name = "SITE",
        default_value = "site.yaml",
        conflicts_with = "example"
    )]
    pub site: PathBuf,
    /// Use a built-in example site instead of a file (see `aerie examples`).
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
    /// Use this profile file instead of the built-in one the site's `profile:`
    /// names (e.g. another release: packages, concerns, preflight and
    /// registration are data).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

/// The site's secrets file that rendering makes (render, build, iso).
#[derive(Debug, Clone, Args)]
pub struct GeneratedSecretsArg {
    /// The site's generated secrets (SSH keys render makes once when the
    /// profile needs them, e.g. eucalyptus); created 0600 when absent
    /// [default: SITE_DIR/<site name>.secrets.yaml].
    #[arg(id = "secrets", long = "secrets", value_name = "FILE")]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// How to print the findings.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the site file [default: site.yaml, or with --edit the edited file].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Start from an existing site file: its values become the defaults.
    #[arg(long, value_name = "SITE", conflicts_with_all = ["answers", "example"])]
    pub edit: Option<PathBuf>,
    /// Take every answer from this (partial) site file instead of asking; all missing values are listed in one error.
    #[arg(long, value_name = "FILE", conflicts_with = "example")]
    pub answers: Option<PathBuf>,
    /// Write a built-in example site (see `aerie examples`) without asking.
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// The directory to write; it must be empty or absent unless --force.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Replace DIR even if it is not empty.
    #[arg(long)]
    pub force: bool,
    /// Read templates from DIR first: a file named like a built-in one, in
    /// DIR/kickstart/ or DIR itself (base.ks.j2, frontend.ks.j2, compute.ks.j2,
    /// minimal.ks.j2, network.ks.j2, post-bundle.ks.j2, dispatch.ks.j2,
    /// firstboot-register.ks.j2, firstboot-deploy.ks.j2, trust.ks.j2),
    /// DIR/vagrant/ (Vagrantfile.j2,
    /// for `lab up`) or DIR/iso/ (isolinux.cfg.j2, grub-bios.cfg.j2,
    /// grub-efi.cfg.j2, efi-image-grub.cfg.j2, grub-menu.cfg.j2, for `iso`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Kickstarts for the operating system only: no cloud concerns.
    #[arg(long)]
    pub minimal: bool,
    #[command(flatten)]
    pub secrets: GeneratedSecretsArg,
    #[command(flatten)]
    pub kolla: KollaArgs,
}

/// `aerie deploy --step`: where to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StepArg {
    Hosts,
    Kolla,
    Networks,
    Register,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// Change nothing, anywhere: the hosts step checks with diffs, the kolla
    /// step lists the inputs that would change, the kolla-ansible commands
    /// it would run and the admin credentials it would deliver to the
    /// frontend, the networks step checks, register is skipped.
    #[arg(long)]
    pub check: bool,
    /// This machine is the frontend (its first boot): the networks and
    /// register steps run their commands here instead of over SSH; a failed
    /// step is recorded in /var/lib/aerie/deploy-resume, and success writes
    /// the marker /var/lib/aerie/deployed.
    #[arg(long)]
    pub local: bool,
    /// Start at this step (resume after a failure; the later steps follow).
    #[arg(long, value_enum, default_value_t = StepArg::Hosts)]
    pub step: StepArg,
    /// With --local: start at the step the last failed run recorded, and do
    /// nothing when the marker says this site file is already deployed (the
    /// first-boot unit's retries).
    #[arg(long, requires = "local", conflicts_with = "step")]
    pub resume: bool,
    /// Before the first step, wait up to SECS for every node to answer on
    /// SSH, naming each one not answering yet; fail naming them after SECS.
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub wait_nodes: u64,
    /// Retry a failed step this many times, from that step, waiting
    /// --retry-delay, then twice as long each time (at most 30 minutes).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub retries: u32,
    /// Seconds before the first retry.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub retry_delay: u64,
    /// Where the kolla step writes Kolla's inputs (inventory, globals.yml,
    /// passwords.yml, config/) [default: SITE_DIR/<site name>-kolla].
    #[arg(long, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// The site's secrets file (Kolla's passwords) [default:
    /// SITE_DIR/<site name>.secrets.yaml].
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    #[command(flatten)]
    pub kolla: KollaArgs,
    /// Pin the keys of hosts not yet in the known-hosts file.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    #[command(flatten)]
    pub reach: ReachArgs,
}

/// Where the kolla profile's kolla-ansible lives, and what Kolla is told.
#[derive(Debug, Clone, Default, Args)]
pub struct KollaArgs {
    /// The venv holding the kolla profile's kolla-ansible (render reads its
    /// multinode inventory and kolla-genpwd; deploy runs it) [default:
    /// $AERIE_KOLLA_VENV, else ~/.local/share/aerie/kolla-ansible-VERSION].
    #[arg(long, value_name = "DIR")]
    pub kolla_venv: Option<PathBuf>,
    /// Kolla's nova_compute_virt_type: kvm, or qemu where guests are emulated
    /// (a lab under TCG).
    #[arg(long, value_enum, default_value_t = VirtTypeArg::Kvm)]
    pub virt_type: VirtTypeArg,
}

/// `--virt-type`: how Kolla's nova-compute runs guests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum VirtTypeArg {
    #[default]
    Kvm,
    Qemu,
}

impl From<VirtTypeArg> for crate::kolla::VirtType {
    fn from(v: VirtTypeArg) -> Self {
        match v {
            VirtTypeArg::Kvm => crate::kolla::VirtType::Kvm,
            VirtTypeArg::Qemu => crate::kolla::VirtType::Qemu,
        }
    }
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// The output directory.
    #[arg(short, long, value_name = "DIR", default_value = "aerie-out")]
    pub output: PathBuf,
    /// Replace DIR even if it is not an earlier aerie output.
    #[arg(long)]
    pub force: bool,
    /// Read templates from DIR first (see `aerie render --help`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    #[command(flatten)]
    pub secrets: GeneratedSecretsArg,
    #[command(flatten)]
    pub kolla: KollaArgs,
}

#[derive(Debug, Args)]
pub struct IsoArgs {
    #[command(flatten)]
    pub site: SiteArg,
    #[command(flatten)]
    pub secrets: GeneratedSecretsArg,
    /// The distribution's installer ISO to remaster.
    #[arg(long, value_name = "BASE.iso", required_unless_present = "config_only")]
    pub base: Option<PathBuf>,
    /// The ISO to write; never replaced without --force.
    #[arg(short, long, value_name = "OUT.iso")]
    pub output: PathBuf,
    /// Write a small config volume (OEMDRV: ks.cfg and per-node folders) instead of remastering.
    #[arg(long, conflicts_with = "base")]
    pub config_only: bool,
    /// With --config-only: only this node; its own kickstart becomes the volume's ks.cfg.
    #[arg(long, value_name = "HOST", requires = "config_only")]
    pub node: Option<String>,
    /// With --config-only --node HOST: a cloud-init NoCloud volume (label cidata:
    /// user-data, meta-data, network-config) for Debian/Ubuntu and cloud images.
    #[arg(long, requires = "config_only")]
    pub cidata: bool,
    /// Serial console for the boot menus and the installer, e.g. ttyS0,115200
    /// (the menus then draw on the serial line; the kernel gets console=tty0 console=ttyS0,115200).
    #[arg(long, value_name = "ttySN[,SPEED]", conflicts_with = "config_only")]
    pub console: Option<crate::iso::bootmenu::Console>,
    /// Extra kernel arguments for every install and rescue entry, e.g. "ip=dhcp inst.text".
    #[arg(
        long,
        value_name = "ARGS",
        allow_hyphen_values = true,
        conflicts_with = "config_only"
    )]
    pub kargs: Option<String>,
    /// Seconds before the default entry (Install Front-End) boots.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 30,
        conflicts_with = "config_only"
    )]
    pub timeout: u32,
    /// Have xorriso write a whole new image instead of growing a copy of the
    /// base: about 3x slower, but no data of the replaced menus is left inside.
    #[arg(long, conflicts_with = "config_only")]
    pub rewrite: bool,
    /// Replace the output ISO if it exists.
    #[arg(long)]
    pub force: bool,
    /// Leave the aerie binary off the media (%post then leaves edits of shared files to the SSH road).
    #[arg(long)]
    pub no_binary: bool,
    /// Put this aerie binary on the media instead of the running one (e.g. a
    /// static musl build); it must run on the site's distribution (EL9: glibc 2.34).
    #[arg(long, value_name = "FILE", conflicts_with = "no_binary")]
    pub binary: Option<PathBuf>,
    /// Read templates from DIR first: the kickstarts, and the boot menus from
    /// DIR/iso/ (see `aerie render --help`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// With --cidata: the known-hosts file where the node's host key (the
    /// one the volume installs) is pinned for apply, status and the rest.
    #[command(flatten)]
    pub known_hosts: KnownHostsArg,
}

#[derive(Debug, Args)]
pub struct ConvergeArgs {
    /// The bundle (HOST/bundle.json from `aerie render`).
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// Apply to this directory as the host's root; commands run only when it is /.
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Install time (kickstart %post): run only commands that work in the
    /// installer's chroot (enabling units, regenerating GRUB).
    #[arg(long)]
    pub install: bool,
    /// Print the plan; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Where the pinned host keys live.
#[derive(Debug, Clone, Args)]
pub struct KnownHostsArg {
    /// aerie's known-hosts file (OpenSSH format) [default: $XDG_STATE_HOME/aerie/known_hosts,
    /// else ~/.local/state/aerie/known_hosts].
    #[arg(long, value_name = "FILE", env = "AERIE_KNOWN_HOSTS")]
    pub known_hosts: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// Only these nodes (hostnames from the site, comma-separated).
    #[arg(
        long,
        value_name = "H1,H2",
        value_delimiter = ',',
        conflicts_with = "role"
    )]
    pub hosts: Vec<String>,
    /// Only the nodes with this role.
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    /// Compute and print everything; change nothing on any host.
    #[arg(long)]
    pub check: bool,
    /// Show a unified diff of every file that changes (or would change).
    #[arg(long)]
    pub diff: bool,
    /// Hosts worked on at the same time.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub parallel: u32,
    /// How to print the per-host results.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// A private key to offer (repeatable); tried after ssh-agent, before ~/.ssh/id_*.
    #[arg(short, long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    #[command(flatten)]
    pub known_hosts: KnownHostsArg,
    /// Pin the key of a host not yet in the known-hosts file (check the
    /// fingerprints aerie prints); a changed key is refused regardless.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Seconds to wait for a host to accept the connection.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,
}

/// How aerie reaches hosts over SSH (register, status, preflight).
#[derive(Debug, Clone, Args)]
pub struct ReachArgs {
    /// A private key to offer (repeatable); tried after ssh-agent, before ~/.ssh/id_*.
    #[arg(short, long, value_name = "FILE")]
    pub identity: Vec<PathBuf>,
    #[command(flatten)]
    pub known_hosts: KnownHostsArg,
    /// Seconds to wait for a host to accept the connection.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Hosts worked on at the same time.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub parallel: u32,
    /// How to print the results.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// Only these compute nodes (hostnames from the site, comma-separated).
    #[arg(long, value_name = "H1,H2", value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// These nodes were reinstalled: remove their old registration, then
    /// register them again. Their new host keys replace the pinned ones only
    /// with --accept-new-host-keys.
    #[arg(long, value_name = "H1,H2", value_delimiter = ',')]
    pub reinstalled: Vec<String>,
    /// Pin the keys of nodes aerie connects to that are not pinned yet (and,
    /// with --reinstalled, replace theirs).
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Seconds to wait for the nodes to come up before reporting the late ones.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
    /// Seconds between two looks at the cloud's service list.
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    pub poll_interval: f64,
    /// Run the frontend's commands on this machine (it is the frontend) instead of over SSH.
    #[arg(long)]
    pub local: bool,
    #[command(flatten)]
    pub reach: ReachArgs,
}

#[derive(Debug, Args)]
pub struct NetworksArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// Change nothing: compare, and say what would be created.
    #[arg(long)]
    pub check: bool,
    /// Pin the frontend's key if it is not in the known-hosts file yet.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Run the openstack commands on this machine (it is the frontend) instead of over SSH.
    #[arg(long)]
    pub local: bool,
    #[command(flatten)]
    pub reach: ReachArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// Only these nodes (hostnames from the site, comma-separated).
    #[arg(long, value_name = "H1,H2", value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// Read /proc and /sys under this directory on each node instead of /
    /// (a chroot, or test fixtures).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub facts_root: String,
    /// The network boot server's folder (`aerie pxe serve --dir`): when it
    /// holds a status, each node's install step is shown too.
    #[arg(long, value_name = "DIR", default_value = "aerie-pxe")]
    pub pxe_dir: std::path::PathBuf,
    #[command(flatten)]
    pub reach: ReachArgs,
}

#[derive(Debug, Args)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// Only these nodes (hostnames from the site, comma-separated).
    #[arg(long, value_name = "H1,H2", value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// Read /proc and /sys (and measure disks) under this directory on each
    /// node instead of / (a chroot, or test fixtures).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub facts_root: String,
    /// Pin the key of a node not yet in the known-hosts file (check the
    /// fingerprints aerie prints); a changed key is refused regardless.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    #[command(flatten)]
    pub reach: ReachArgs,
}

#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// List the pinned host keys with their SHA256 fingerprints.
    List {
        #[command(flatten)]
        known_hosts: KnownHostsArg,
    },
    /// Forget the pinned keys of hosts (after a reinstall), so the next
    /// `aerie apply --accept-new-host-keys` pins the new ones.
    ///
    /// HOST is an address or name as aerie connects to it: every port of it,
    /// or exactly `[HOST]:PORT`.
    Forget {
        /// The hosts to forget.
        #[arg(value_name = "HOST", required = true)]
        hosts: Vec<String>,
        #[command(flatten)]
        known_hosts: KnownHostsArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum BmcCommand {
    /// Boot the nodes once: from an ISO by URL (eject every virtual-media slot,
    /// insert the ISO, read it back) or from the network (--pxe); then the
    /// one-time boot override, read back, and a restart (or power on).
    Boot(BmcBootArgs),
    /// Power the nodes on, off (forced), cycle them, or read their power state.
    Power(BmcPowerArgs),
    /// Keep a node's BMC password in the site's secrets file (mode 0600):
    /// typed hidden at a terminal, else the first line of standard input.
    Password(BmcPasswordArgs),
}

#[derive(Debug, Args)]
pub struct BmcRunArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// Only these nodes (hostnames from the site, comma-separated).
    #[arg(long, value_name = "N1,N2", value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// BMCs worked on at the same time.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub parallel: u32,
    /// How to print the per-node results.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Trust any TLS certificate of a BMC whose node pins none (said on every run).
    #[arg(long)]
    pub insecure: bool,
    /// Seconds one Redfish request may take.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// Attempts per request when a BMC is busy or drops the connection.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub attempts: u32,
    /// The secrets file [default: <site dir>/<site name>.secrets.yaml].
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// A vendor quirks table to use instead of the built-in one (same form as src/bmc/quirks.yaml).
    #[arg(long, value_name = "FILE")]
    pub quirks: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("media").required(true).args(["iso", "pxe"])))]
pub struct BmcBootArgs {
    /// The ISO's URL, which each BMC downloads itself (http:// or https://).
    #[arg(long, value_name = "URL")]
    pub iso: Option<String>,
    /// Boot from the network instead.
    #[arg(long)]
    pub pxe: bool,
    #[command(flatten)]
    pub run: BmcRunArgs,
}

#[derive(Debug, Args)]
pub struct BmcPowerArgs {
    /// What to do.
    #[arg(value_enum)]
    pub op: PowerArg,
    #[command(flatten)]
    pub run: BmcRunArgs,
}

/// `aerie bmc power` operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PowerArg {
    On,
    Off,
    Cycle,
    Status,
}

impl From<PowerArg> for crate::bmc::PowerOp {
    fn from(op: PowerArg) -> Self {
        match op {
            PowerArg::On => crate::bmc::PowerOp::On,
            PowerArg::Off => crate::bmc::PowerOp::Off,
            PowerArg::Cycle => crate::bmc::PowerOp::Cycle,
            PowerArg::Status => crate::bmc::PowerOp::Status,
        }
    }
}

#[derive(Debug, Args)]
pub struct BmcPasswordArgs {
    /// The node (a hostname of the site with a `bmc:`).
    #[arg(value_name = "NODE")]
    pub node: String,
    #[command(flatten)]
    pub site: SiteArg,
    /// The secrets file [default: <site dir>/<site name>.secrets.yaml].
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
}

/// How a command prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// A node's role, as `--role` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Frontend,
    Compute,
}

impl From<RoleArg> for crate::site::Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Frontend => crate::site::Role::Frontend,
            RoleArg::Compute => crate::site::Role::Compute,
        }
    }
}

/// `lab up --driver`: how the VMs are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriverArg {
    /// Vagrant with the vagrant-libvirt provider.
    Vagrant,
    /// qemu driven by aerie: bridge, taps, NAT, qcow2 disks, installer boot.
    Qemu,
}

impl From<DriverArg> for crate::lab::Driver {
    fn from(driver: DriverArg) -> Self {
        match driver {
            DriverArg::Vagrant => crate::lab::Driver::Vagrant,
            DriverArg::Qemu => crate::lab::Driver::Qemu,
        }
    }
}

/// `lab up --boot`: how the qemu driver's VMs reach the installer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BootArg {
    /// aerie's installer ISO as each VM's CD (made from --iso), its kernel booted directly.
    Iso,
    /// From the network: aerie's boot server (as `aerie pxe serve`) on the
    /// lab's management bridge serves the installer from --iso; no CD.
    Pxe,
}

impl From<BootArg> for crate::lab::Boot {
    fn from(boot: BootArg) -> Self {
        match boot {
            BootArg::Iso => crate::lab::Boot::Iso,
            BootArg::Pxe => crate::lab::Boot::Pxe,
        }
    }
}

/// `lab up --accel`: how the VMs are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccelArg {
    /// Hardware virtualization (/dev/kvm); nested KVM inside the VMs.
    Kvm,
    /// Software emulation: works without KVM, slow, no KVM inside the VMs.
    Tcg,
}

impl From<AccelArg> for crate::lab::Accel {
    fn from(accel: AccelArg) -> Self {
        match accel {
            AccelArg::Kvm => crate::lab::Accel::Kvm,
            AccelArg::Tcg => crate::lab::Accel::Tcg,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Check the host, then make the lab's networks and VMs and boot them.
    ///
    /// Host checks first (KVM, CPU flags, nested virtualization, memory,
    /// disk): a failed check says its fix and nothing is made. Everything made
    /// is listed in DIR/lab.json; on any failure it is all removed again.
    /// Exit status: 0 up, 64 bad usage, 65 invalid site, 69 host not ready or a program
    /// missing (vagrant, qemu, ip, nft: the message says how to install it), 1 other failure.
    Up(LabUpArgs),
    /// Show each VM, its address, whether it runs and whether it answers SSH
    /// (with --boot pxe also the boot server and each node's install step).
    Status(LabDirArg),
    /// Open an SSH session to a node of the lab, or run a command there.
    ///
    /// The qemu driver's `--image` labs pin each node's host key made at
    /// render time (DIR/known_hosts, strict checking: no trust on first use).
    Ssh {
        /// The node's host name.
        #[arg(value_name = "NODE")]
        node: String,
        #[command(flatten)]
        dir: LabDirArg,
        /// A command to run on the node instead of a session (after `--`).
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Remove exactly what `lab up` made: VMs, taps, bridges, NAT rules, the
    /// forwarding setting (restored), the boot server, files.
    Down(LabDirArg),
    /// The lab's boot server (`lab up --boot pxe` starts it as a daemon;
    /// `lab down` stops it): serves DIR/boot-server.json until SIGTERM.
    #[command(hide = true)]
    BootServer(LabDirArg),
}

#[derive(Debug, Subcommand)]
pub enum PxeCommand {
    /// Serve network boot until SIGINT/SIGTERM; then dnsmasq and HTTP stop.
    ///
    /// Everything is checked before anything runs (the site, the base ISO's
    /// kernel and initrd, iPXE, dnsmasq, the HTTP port). At a terminal each
    /// node shows its step: DHCP seen, script, kernel, kickstart, install
    /// done, first boot; `--output json` prints one JSON event a line.
    /// Exit status: 0 stopped by a signal, 64 bad usage, 65 invalid site or a
    /// base ISO with no installer kernel, 66 unreadable base, 69 a program
    /// missing (dnsmasq, xorriso, iPXE) or the port taken, 1 other failure.
    Serve(PxeServeArgs),
    /// Each node's latest step and whether it is installed.
    Status(PxeStatusArgs),
    /// Install these nodes again at their next network boot.
    Reinstall(PxeReinstallArgs),
    /// Write what `serve` would serve (dnsmasq.conf, boot/<mac>.ipxe,
    /// ks/<host>.cfg) into DIR, starting nothing.
    Config(PxeConfigArgs),
}

/// The boot server's folder.
#[derive(Debug, Clone, Args)]
pub struct PxeDirArg {
    /// The server's folder: installed markers, status, dnsmasq's config and log.
    #[arg(long, value_name = "DIR", default_value = "aerie-pxe")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct PxeServeArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// The distribution's installer ISO (Rocky, Alma, CentOS Stream 9): its
    /// kernel, initrd and stage2 are served from it, nothing is mounted.
    #[arg(long, value_name = "ISO")]
    pub base: PathBuf,
    #[command(flatten)]
    pub dir: PxeDirArg,
    /// Serial console for the installer, e.g. ttyS0,115200 (the kernel gets
    /// console=tty0 console=ttyS0,115200).
    #[arg(long, value_name = "TTY")]
    pub console: Option<crate::iso::bootmenu::Console>,
    /// Listen on this address:port instead of netboot's address and http-port
    /// (the nodes are still sent to netboot's).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// HTTP only: start no dnsmasq (another DHCP/TFTP server chains to /boot.ipxe).
    #[arg(long)]
    pub no_dhcp: bool,
    /// Built-in kickstart templates overridden by files in DIR.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// The site's secrets file [default: <site dir>/<site name>.secrets.yaml].
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// Progress at a terminal, else a line per event (text), or JSON events.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PxeStatusArgs {
    #[command(flatten)]
    pub dir: PxeDirArg,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PxeReinstallArgs {
    /// The nodes' host names.
    #[arg(value_name = "NODE", required = true)]
    pub nodes: Vec<String>,
    #[command(flatten)]
    pub dir: PxeDirArg,
}

#[derive(Debug, Args)]
pub struct PxeConfigArgs {
    #[command(flatten)]
    pub site: SiteArg,
    /// Where to write it.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Serial console for the installer, e.g. ttyS0,115200.
    #[arg(long, value_name = "TTY")]
    pub console: Option<crate::iso::bootmenu::Console>,
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
}

/// Where the lab lives.
#[derive(Debug, Clone, Args)]
pub struct LabDirArg {
    /// The lab's folder (its state file is DIR/lab.json).
    #[arg(long, value_name = "DIR", default_value = "aerie-lab")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct LabUpArgs {
    #[command(flatten)]
    pub site: SiteArg,
    #[command(flatten)]
    pub dir: LabDirArg,
    /// How the VMs are made.
    #[arg(long, value_enum, default_value_t = DriverArg::Vagrant)]
    pub driver: DriverArg,
    /// kvm, or tcg: software emulation without /dev/kvm (qemu driver only;
    /// slow, and no nested KVM inside the VMs).
    #[arg(long, value_enum, default_value_t = AccelArg::Kvm)]
    pub accel: AccelArg,
    /// The qemu driver's installer: a distribution's EL installer ISO (made into
    /// aerie's installer, as `aerie iso --base` does, in DIR/installer.iso),
    /// or an ISO `aerie iso` made for this site (booted as it is).
    #[arg(long, value_name = "PATH")]
    pub iso: Option<PathBuf>,
    /// The qemu driver boots this disk image instead of an installer (a site
    /// with distro: debian12): each node its own qcow2 overlay of DISK (DISK
    /// is only read) under UEFI (OVMF), with its cloud-init volume (as
    /// `aerie iso --config-only --cidata --node NODE` makes it), whose first
    /// boot converges the node and reboots it when aerie says so.
    #[arg(long, value_name = "DISK", conflicts_with = "iso")]
    pub image: Option<PathBuf>,
    /// How the qemu driver's VMs reach the installer: iso (aerie's installer
    /// ISO as their CD), or pxe (from the network: aerie's boot server, as
    /// `aerie pxe serve`, on the lab's management bridge serves the installer
    /// from --iso and each node's own kickstart; it runs until `lab down`).
    #[arg(long, value_enum, default_value_t = BootArg::Iso, conflicts_with = "image")]
    pub boot: BootArg,
    /// The Vagrant box (vagrant driver).
    #[arg(long = "box", value_name = "NAME", default_value = "generic/rocky9")]
    pub box_name: String,
    /// Read templates from DIR first: the kickstarts, vagrant/Vagrantfile.j2
    /// and the installer's menus iso/*.j2 (see `aerie render --help`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Memory of every VM in MiB [default: 4096 for the frontend, 2048 for compute nodes].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(256..))]
    pub memory: Option<u32>,
    /// CPUs of every VM [default: 2].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub cpus: Option<u32>,
    /// Size of every VM's disk (qcow2, grows up to this).
    #[arg(long, value_name = "GB", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub disk_gb: u32,
    /// Prefix of the lab's interface names (bridges PREFIX-bN, taps PREFIX-tN-K) [default: ae- and the site name's first 6 characters].
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// When nested virtualization is off, write /etc/modprobe.d/kvm-nested.conf
    /// without asking (the module must still be reloaded or the host rebooted).
    #[arg(long)]
    pub enable_nested: bool,
    /// Read the host's facts (/proc, /sys, /dev, /etc/modprobe.d) under this
    /// directory instead of / (for tests).
    #[arg(long, value_name = "DIR", hide = true, env = "AERIE_HOST_ROOT")]
    pub host_root: Option<PathBuf>,
}

impl SiteArg {
    pub fn source(&self) -> crate::site::Source {
        match &self.example {
            Some(name) => crate::site::Source::Example(name.clone()),
            None => crate::site::Source::File(self.site.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
