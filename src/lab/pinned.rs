//! The lab's own known-hosts file for VMs whose host keys aerie made at
//! render time (`--image`: each node's key is on its cidata volume): `lab
//! ssh` checks strictly against it, never trusting a key on first sight.

use super::plan::VmPlan;
use crate::render::secrets::Secrets;
use crate::ssh::known_hosts::host_pattern;

/// The file's name inside the lab folder.
pub const FILE: &str = "known_hosts";

/// One line per VM with an address and a rendered host key.
pub fn known_hosts(vms: &[VmPlan], secrets: &Secrets) -> String {
    let mut text = String::new();
    for vm in vms {
        let (Some(address), Some(key)) = (vm.address, secrets.host_key(&vm.name)) else {
            continue;
        };
        let mut words = key.public.split_whitespace();
        if let (Some(kind), Some(blob)) = (words.next(), words.next()) {
            let pattern = host_pattern(&address.to_string(), vm.ssh_port);
            text.push_str(&format!("{pattern} {kind} {blob}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::secrets::KeyPair;

    #[test]
    fn one_line_per_keyed_vm_with_its_port() {
        let mut plan = super::super::plan::fixture::lab_plan();
        plan.vms[1].ssh_port = 2222;
        let mut secrets = Secrets::default();
        for (host, blob) in [("fe1", "AAAAfe1"), ("node1", "AAAAnode1")] {
            secrets.host_keys.insert(
                host.into(),
                KeyPair {
                    private: "secret".into(),
                    public: format!("ssh-ed25519 {blob} {host}.lab.example"),
                },
            );
        }
        assert_eq!(
            known_hosts(&plan.vms, &secrets),
            "10.20.0.10 ssh-ed25519 AAAAfe1\n[10.20.0.11]:2222 ssh-ed25519 AAAAnode1\n"
        );
    }
}
