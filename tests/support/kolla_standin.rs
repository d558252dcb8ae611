//! The recording STAND-IN for kolla-ansible that `aerie deploy` runs from
//! the operator's machine in the test-bed tests and the kolla benchmark
//! (Kolla's deploy needs container images that cannot be fetched here: no
//! container is started, no Kolla playbook runs), and the venv that holds it.

use crate::render_support::kolla_venv;
use std::path::{Path, PathBuf};

/// The stand-in `kolla-ansible`: appends its argv and stdout callback to
/// $STANDIN_LOG, prints a play with one task per inventory host as jsonl,
/// when its subcommand is $STANDIN_FAIL fails a Kolla task on host1, and as
/// Kolla's post-deploy writes the admin credentials (the password
/// $STANDIN_SECRET, none when it is empty) and clouds.yaml into --configdir,
/// 0600.
pub const STANDIN: &str = r#"#!/bin/sh
# STAND-IN for kolla-ansible (aerie's deploy test): records, runs nothing.
echo "$ANSIBLE_STDOUT_CALLBACK $*" >> "$STANDIN_LOG"
sub=$1
conf=
while [ $# -gt 0 ]; do [ "$1" = --configdir ] && conf=$2; shift; done
if [ "$sub" = post-deploy ] && [ "$sub" != "$STANDIN_FAIL" ] && [ -n "$STANDIN_SECRET" ]; then
  (umask 077
   printf 'export OS_AUTH_URL=http://10.44.1.1:5000/v3\nexport OS_USERNAME=admin\nexport OS_PASSWORD=%s\n' "$STANDIN_SECRET" > "$conf/admin-openrc.sh"
   printf 'clouds: {}\n' > "$conf/clouds.yaml")
fi
echo '{"_event":"v2_playbook_on_play_start","play":{"name":"Apply role nova"}}'
echo '{"_event":"v2_playbook_on_task_start","task":{"name":"nova : Ensuring config directories exist"},"hosts":{}}'
echo '{"_event":"v2_runner_on_ok","task":{"name":"nova : Ensuring config directories exist"},"hosts":{"host1":{"changed":false}}}'
if [ "$sub" = "$STANDIN_FAIL" ]; then
  echo '{"_event":"v2_runner_on_failed","task":{"name":"nova : Running Nova bootstrap container"},"hosts":{"host1":{"failed":true,"msg":"Container exited with non-zero return code 1"}}}'
  echo '{"_event":"v2_playbook_on_stats","stats":{"host1":{"failures":1,"unreachable":0}}}'
  exit 2
fi
echo '{"_event":"v2_playbook_on_stats","stats":{"host1":{"failures":0,"unreachable":0}}}'
"#;

/// A venv for the deploy: the real one's data, kolla-genpwd and dist-info
/// (its version), with the stand-in as bin/kolla-ansible.
pub fn standin_venv(dir: &Path) -> PathBuf {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let real = kolla_venv();
    let v = dir.join("standin-venv");
    std::fs::create_dir_all(v.join("bin")).unwrap();
    std::fs::create_dir_all(v.join("lib/python3.11/site-packages")).unwrap();
    symlink(
        real.join("lib/python3.11/site-packages/kolla_ansible-20.6.0.dist-info"),
        v.join("lib/python3.11/site-packages/kolla_ansible-20.6.0.dist-info"),
    )
    .unwrap();
    symlink(real.join("share"), v.join("share")).unwrap();
    symlink(real.join("bin/kolla-genpwd"), v.join("bin/kolla-genpwd")).unwrap();
    std::fs::write(v.join("bin/kolla-ansible"), STANDIN).unwrap();
    std::fs::set_permissions(
        v.join("bin/kolla-ansible"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    v
}
