//! The host's sshd (and every process in it) killed in the middle of an apply, at
//! several moments: no bundle file on that host is ever partial or truncated (each is
//! absent or whole), the other host is done, and the next apply converges.

use crate::apply_support;
use apply_support::*;
use std::time::Duration;

#[test]
fn sshd_killed_mid_apply_leaves_no_partial_file_and_next_apply_converges() {
    let tb = testbed(2);
    let site = write_site(&tb, &site_yaml(&tb));
    let kh = known_hosts_copy(&tb);
    let victim = tb.host(2);
    let paths = [
        "/etc/modprobe.d/mlx4_core.conf",
        "/etc/modprobe.d/kvm-nested.conf",
        "/etc/systemd/system/aerie-metadata-redirect.service",
        "/etc/default/grub",
        "/etc/nova/nova.conf",
    ];
    let read_all = || -> Vec<Option<Vec<u8>>> {
        paths
            .iter()
            .map(|p| std::fs::read(victim.path(p)).ok())
            .collect()
    };

    let mut seen = Vec::new();
    for delay_ms in [5u64, 20, 40, 70, 110, 160] {
        // Start over on the victim: none of its bundle files.
        victim.exec_ok(&format!("rm -f {}", paths.join(" ")));
        let child = aerie_command(&tb, "apply", &site, &kh, &[])
            .command()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        victim.kill_sshd();
        let out = child.wait_with_output().unwrap();
        let r = report(&out);
        assert_ne!(status(&r, "host1"), "failed", "{r:#}");
        let st = status(&r, "host2");
        assert_eq!(
            out.status.code(),
            Some(if st == "failed" || st == "unreachable" {
                2
            } else {
                0
            })
        );
        seen.push((delay_ms, st, read_all()));
        victim.start_sshd();
    }

    // Converge, then every snapshot taken after a kill holds, per file, nothing or the whole final file.
    let out = apply(&tb, &site, &kh, &[]);
    assert!(out.status.success(), "{}", explain(&out));
    let last = apply(&tb, &site, &kh, &[]);
    assert_eq!(status(&report(&last), "host2"), "ok", "did not converge");
    let fin = read_all();
    assert!(fin.iter().all(Option::is_some));
    let mut partial_runs = 0;
    for (delay, st, files) in &seen {
        let written = files.iter().filter(|f| f.is_some()).count();
        if written > 0 && written < paths.len() {
            partial_runs += 1;
        }
        for (i, f) in files.iter().enumerate() {
            if let Some(bytes) = f {
                assert_eq!(
                    Some(bytes),
                    fin[i].as_ref(),
                    "{} after a kill at {delay} ms ({st}) is not the whole file",
                    paths[i]
                );
            }
        }
    }
    eprintln!(
        "kills that landed between files: {partial_runs} of {}",
        seen.len()
    );
    // No temporary file left behind once converged.
    assert_eq!(victim.exec_ok("find /etc -name '.aerie-*'"), "");
}
