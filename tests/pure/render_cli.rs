//! `aerie render` and `aerie build` through the real binary: refusal of a
//! non-empty directory, replacement of aerie's own output, invalid sites never
//! rendered, template errors naming template and line, secrets not world-readable.

use crate::harness;
use harness::{aerie, file_names};

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn render_refuses_a_non_empty_directory_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    std::fs::write(tmp.path().join("out/notes.txt"), "mine").unwrap();
    let o = aerie()
        .cwd(tmp.path())
        .args(["render", "--example", "lab", "-o", "out"])
        .output();
    assert_eq!(o.status.code(), Some(73), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(file_names(&tmp.path().join("out")), ["notes.txt"]);
    let o = aerie()
        .cwd(tmp.path())
        .args(["render", "--example", "lab", "-o", "out", "--force"])
        .output();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!tmp.path().join("out/notes.txt").exists());
    assert!(tmp.path().join("out/node1/ks.cfg").is_file());
    assert_eq!(
        file_names(tmp.path()),
        ["out"],
        "temporary directories left behind"
    );
}

#[test]
fn kickstarts_and_bundles_are_not_world_readable() {
    let tmp = tempfile::tempdir().unwrap();
    let o = aerie()
        .cwd(tmp.path())
        .args(["render", "--example", "lab", "-o", "out"])
        .output();
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["ks.cfg", "fe1/ks.cfg", "node1/ks.cfg", "node1/bundle.json"] {
        let mode = std::fs::metadata(tmp.path().join("out").join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{f} is {mode:o}");
    }
    let ks = std::fs::read_to_string(tmp.path().join("out/fe1/ks.cfg")).unwrap();
    assert!(ks.contains("rootpw --iscrypted $6$"), "{ks}");
}

#[test]
fn build_replaces_its_own_output_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let first = aerie()
        .cwd(tmp.path())
        .args(["build", "--example", "lab"])
        .output();
    assert!(first.status.success(), "{}", stderr(&first));
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(
        text.contains("aerie-out") && text.contains("Next:"),
        "{text}"
    );
    let again = aerie()
        .cwd(tmp.path())
        .args(["build", "--example", "lab"])
        .output();
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("replaced"));

    let other = tmp.path().join("elsewhere");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("photo.jpg"), "x").unwrap();
    let o = aerie()
        .cwd(tmp.path())
        .args(["build", "--example", "lab", "-o", "elsewhere"])
        .output();
    assert_eq!(o.status.code(), Some(73), "{}", stderr(&o));
    assert!(stderr(&o).contains("not aerie output"), "{}", stderr(&o));
    assert_eq!(file_names(&other), ["photo.jpg"]);
}

#[test]
fn an_invalid_site_is_never_rendered() {
    let tmp = tempfile::tempdir().unwrap();
    let site = aerie::site::examples::get("lab")
        .unwrap()
        .replace("num-vfs: 16", "num-vfs: 9999");
    std::fs::write(tmp.path().join("site.yaml"), site).unwrap();
    let o = aerie()
        .cwd(tmp.path())
        .args(["render", "site.yaml", "-o", "out"])
        .output();
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));
    assert!(stderr(&o).contains("num-vfs"), "{}", stderr(&o));
    assert!(!tmp.path().join("out").exists());
    assert_eq!(file_names(tmp.path()), ["site.yaml"]);
}

/// `aerie render --example lab -o out --templates t` in `dir`.
fn render_with_templates(dir: &Path) -> Output {
    aerie()
        .cwd(dir)
        .args([
            "render",
            "--example",
            "lab",
            "-o",
            "out",
            "--templates",
            "t",
        ])
        .output()
}

#[test]
fn a_template_error_names_the_template_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("t")).unwrap();
    std::fs::write(
        tmp.path().join("t/network.ks.j2"),
        "# ok\n# ok\n{% for line in networks %}\nnetwork {{ line.options }\n{% endfor %}\n",
    )
    .unwrap();
    let o = render_with_templates(tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("network.ks.j2") && err.contains("line 4"),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists());
    // An unknown variable is an error too, not an empty string.
    std::fs::write(
        tmp.path().join("t/network.ks.j2"),
        "network {{ no_such_thing }}\n",
    )
    .unwrap();
    let o = render_with_templates(tmp.path());
    let err = stderr(&o);
    assert!(
        !o.status.success() && err.contains("network.ks.j2") && err.contains("line 1"),
        "{err}"
    );
}

#[test]
fn templates_dir_overrides_one_template() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("t")).unwrap();
    std::fs::write(tmp.path().join("t/compute.ks.j2"), "{% extends \"base.ks.j2\" %}\n{% block packages %}{{ super() }}site-local-agent\n{% endblock %}\n").unwrap();
    let o = render_with_templates(tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let node = std::fs::read_to_string(tmp.path().join("out/node1/ks.cfg")).unwrap();
    let fe = std::fs::read_to_string(tmp.path().join("out/fe1/ks.cfg")).unwrap();
    assert!(node.contains("\nsite-local-agent\n"), "{node}");
    assert!(!fe.contains("site-local-agent"));
}

#[test]
fn templates_dir_kickstart_folder_for_render_and_build() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("t/kickstart")).unwrap();
    let compute = "{% extends \"base.ks.j2\" %}\n{% block packages %}{{ super() }}site-local-agent\n{% endblock %}\n";
    std::fs::write(tmp.path().join("t/kickstart/compute.ks.j2"), compute).unwrap();
    let o = render_with_templates(tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let node = std::fs::read_to_string(tmp.path().join("out/node1/ks.cfg")).unwrap();
    assert!(node.contains("\nsite-local-agent\n"), "{node}");
    let o = aerie()
        .cwd(tmp.path())
        .args([
            "build",
            "--example",
            "lab",
            "-o",
            "built",
            "--templates",
            "t",
        ])
        .output();
    assert!(o.status.success(), "{}", stderr(&o));
    let node = std::fs::read_to_string(tmp.path().join("built/node1/ks.cfg")).unwrap();
    assert!(node.contains("\nsite-local-agent\n"), "{node}");
    // The same template in DIR and DIR/kickstart/: which one was meant is unclear.
    std::fs::write(tmp.path().join("t/compute.ks.j2"), compute).unwrap();
    let o = aerie()
        .cwd(tmp.path())
        .args([
            "render",
            "--example",
            "lab",
            "-o",
            "again",
            "--templates",
            "t",
        ])
        .output();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("template compute.ks.j2: ") && err.contains("remove one"),
        "{err}"
    );
    assert!(!tmp.path().join("again").exists());
}

/// `--profile FILE` replaces the built-in profile in every command that takes
/// a site: here render and build see a package only the file has, and
/// validate refuses a broken one.
#[test]
fn profile_file_replaces_the_built_in_profile() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let profile = include_str!("../../profiles/openstack.yaml").replacen(
        "    - openstack-keystone\n",
        "    - openstack-keystone\n    - aerie-profile-marker\n",
        1,
    );
    assert!(profile.contains("aerie-profile-marker"));
    std::fs::write(d.join("mine.yaml"), profile).unwrap();
    std::fs::write(d.join("broken.yaml"), "name: [").unwrap();
    let lab = ["--example", "lab", "--profile", "mine.yaml"];
    for command in ["render", "build"] {
        let out_dir = format!("{command}-out");
        let out = aerie()
            .cwd(d)
            .args([&[command][..], &lab, &["-o", &out_dir]].concat())
            .output();
        assert!(out.status.success(), "{command}: {}", stderr(&out));
        let ks = std::fs::read_to_string(d.join(&out_dir).join("fe1/ks.cfg")).unwrap();
        assert!(ks.contains("aerie-profile-marker"), "{command}");
        let node = std::fs::read_to_string(d.join(&out_dir).join("node1/ks.cfg")).unwrap();
        assert!(!node.contains("aerie-profile-marker"), "{command}");
    }
    let out = aerie()
        .cwd(d)
        .args(["render", "--example", "lab", "-o", "plain"])
        .output();
    assert!(out.status.success(), "{}", stderr(&out));
    let ks = std::fs::read_to_string(d.join("plain/fe1/ks.cfg")).unwrap();
    assert!(!ks.contains("aerie-profile-marker"));
    let out = aerie()
        .cwd(d)
        .args(["validate", "--example", "lab", "--profile", "broken.yaml"])
        .output();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("broken.yaml"), "{}", stderr(&out));
    let out = aerie()
        .cwd(d)
        .args(["validate", "--example", "lab", "--profile", "mine.yaml"])
        .output();
    assert!(out.status.success(), "{}", stderr(&out));
}
