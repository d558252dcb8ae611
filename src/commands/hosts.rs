//! `aerie hosts list|forget`: the pinned host keys.

use crate::cli::HostsCommand;
use crate::ssh::known_hosts::{self, KnownHosts};

pub fn run(command: &HostsCommand) -> anyhow::Result<()> {
    match command {
        HostsCommand::List { known_hosts: file } => {
            let path = file
                .known_hosts
                .clone()
                .unwrap_or_else(known_hosts::default_path);
            let kh = KnownHosts::load(&path)?;
            for e in kh.entries() {
                println!(
                    "{:<24} {:<20} {}",
                    e.hosts.join(","),
                    e.key_type,
                    known_hosts::fingerprint(&e.key)
                );
            }
            Ok(())
        }
        HostsCommand::Forget {
            hosts,
            known_hosts: file,
        } => {
            let path = file
                .known_hosts
                .clone()
                .unwrap_or_else(known_hosts::default_path);
            let mut kh = KnownHosts::load(&path)?;
            for host in hosts {
                match kh.forget(host) {
                    0 => println!("{host}: no key pinned in {}", path.display()),
                    n => println!("{host}: forgot {n} key(s) in {}", path.display()),
                }
            }
            kh.save(&path)
        }
    }
}
