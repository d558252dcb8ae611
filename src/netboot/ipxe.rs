//! The iPXE scripts the server hands out (pure): the first one chains to the
//! per-MAC script; a node to install gets the installer's kernel, initrd and
//! kernel arguments; anything else boots its local disk.

use super::plan::{BootNode, Plan};

/// Where the installer's files are served from the base ISO.
pub const ISO_PREFIX: &str = "/iso";
pub const KERNEL: &str = "images/pxeboot/vmlinuz";
pub const INITRD: &str = "images/pxeboot/initrd.img";

/// The script every iPXE gets first: it asks for its own by MAC.
pub fn chain(plan: &Plan) -> String {
    format!(
        "#!ipxe\n# aerie: ask for this machine's own script\nchain {}/boot/${{netX/mac:hexhyp}}\n",
        plan.base_url()
    )
}

/// The kernel arguments of a node's install.
pub fn kernel_args(plan: &Plan, node: &BootNode, extra: &[String]) -> Vec<String> {
    let base = plan.base_url();
    let mut args = vec![
        "initrd=initrd.img".to_string(),
        format!("inst.stage2={base}{ISO_PREFIX}"),
        format!("inst.repo={base}{ISO_PREFIX}"),
        format!("inst.ks={base}/ks/{}.cfg", node.hostname),
        format!("BOOTIF=01-{}", node.mac.replace(':', "-")),
    ];
    args.extend(extra.iter().cloned());
    args
}

/// The script of a node to install.
pub fn install(plan: &Plan, node: &BootNode, extra: &[String]) -> String {
    let base = plan.base_url();
    format!(
        "#!ipxe\necho aerie: installing {host}\nkernel {base}/node/{host}/vmlinuz {args}\ninitrd --name initrd.img {base}/node/{host}/initrd.img\nboot\n",
        host = node.hostname,
        args = kernel_args(plan, node, extra).join(" ")
    )
}

/// The script that boots the local disk: UEFI returns to the firmware (its
/// next boot entry), BIOS boots the first disk, and falls back to returning.
pub fn local_disk(why: &str) -> String {
    format!(
        "#!ipxe\necho aerie: {why}: booting the local disk\niseq ${{platform}} efi && exit ||\nsanboot --no-describe --drive 0x80 || exit\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{examples, load};

    #[test]
    fn an_install_script_points_everything_at_the_server() {
        let site = load::from_str(examples::get("netboot").unwrap(), "x").unwrap();
        let plan = Plan::new(&site).unwrap();
        let node = plan.node("node1").unwrap();
        let s = install(&plan, node, &["console=ttyS0,115200".into()]);
        assert!(s.starts_with("#!ipxe\n"));
        assert!(s.contains("kernel http://10.20.0.2:8080/node/node1/vmlinuz initrd=initrd.img inst.stage2=http://10.20.0.2:8080/iso inst.repo=http://10.20.0.2:8080/iso inst.ks=http://10.20.0.2:8080/ks/node1.cfg BOOTIF=01-52-54-00-00-00-11 console=ttyS0,115200\n"), "{s}");
        assert!(
            s.contains("initrd --name initrd.img http://10.20.0.2:8080/node/node1/initrd.img\n")
        );
        assert!(chain(&plan).contains("chain http://10.20.0.2:8080/boot/${netX/mac:hexhyp}"));
        assert!(local_disk("unknown").contains("sanboot"));
    }
}
