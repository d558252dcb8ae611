//! The IOMMU edit of /etc/default/grub on real-world files: Debian 12, Ubuntu
//! 24.04 and Rocky 9 defaults and the awkward cases. The result is read back
//! the way update-grub / grub2-mkconfig read it: by a shell sourcing the file.

use crate::harness;

use aerie::bundle::grub::ensure_kernel_args;
use harness::tool;
use std::path::Path;

const VARIANTS: &[&str] = &[
    "debian12",
    "ubuntu2404",
    "rocky9",
    "unquoted",
    "empty-unquoted",
    "earlier-intel-iommu-off",
    "single-quoted",
    "missing",
    "reassigned-twice",
    "crlf",
    "no-final-newline",
];

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/grub")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// GRUB_CMDLINE_LINUX as a shell sourcing the file sees it, split in words.
fn cmdline_words(text: &str) -> Vec<String> {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text.replace("\r\n", "\n")).unwrap();
    let script = format!(
        ". '{}' 2>/dev/null; printf '%s' \"$GRUB_CMDLINE_LINUX\"",
        file.path().display()
    );
    let (ok, out) = tool("sh").args(["-c", &script]).outcome();
    assert!(ok, "sh cannot source the file:\n{out}\n{text}");
    out.split_whitespace().map(str::to_string).collect()
}

fn key(word: &str) -> &str {
    word.split('=').next().unwrap()
}

fn check(name: &str, args: &[&str]) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let before = fixture(name);
    let once = ensure_kernel_args(&before, &args);
    let twice = ensure_kernel_args(&once, &args);
    assert_eq!(twice, once, "{name}: applying twice differs from once");

    // Each argument exactly once; no other value of its key left.
    let words = cmdline_words(&once);
    for a in &args {
        assert_eq!(
            words.iter().filter(|w| *w == a).count(),
            1,
            "{name}: {a} in {words:?}"
        );
        assert!(
            words.iter().all(|w| key(w) != key(a) || w == a),
            "{name}: another value of {} in {words:?}",
            key(a)
        );
    }
    // Every other argument kept, in order.
    let keys: Vec<&str> = args.iter().map(|a| key(a)).collect();
    let others = |ws: &[String]| -> Vec<String> {
        ws.iter()
            .filter(|w| !keys.contains(&key(w)))
            .cloned()
            .collect()
    };
    assert_eq!(others(&words), others(&cmdline_words(&before)), "{name}");

    // Every other line byte for byte: at most one line differs, or one is added.
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let new: Vec<&str> = once.split_inclusive('\n').collect();
    let changed_lines = old.iter().zip(&new).filter(|(a, b)| a != b).count();
    let ok = (old.len() == new.len() && changed_lines <= 1)
        || (new.len() == old.len() + 1 && new.starts_with(&old[..old.len().saturating_sub(1)]));
    assert!(
        ok,
        "{name}: more than the one line changed:\n{before}\n---\n{once}"
    );
}

#[test]
fn intel_iommu_on_every_variant() {
    for name in VARIANTS {
        check(name, &["intel_iommu=on", "iommu=pt"]);
    }
}

#[test]
fn amd_iommu_on_every_variant() {
    for name in VARIANTS {
        check(name, &["amd_iommu=on", "iommu=pt"]);
    }
}

#[test]
fn known_results() {
    let args = vec!["intel_iommu=on".to_string(), "iommu=pt".to_string()];
    let rocky = ensure_kernel_args(&fixture("rocky9"), &args);
    assert!(rocky.contains(
        "GRUB_CMDLINE_LINUX=\"crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M resume=/dev/mapper/rl-swap rd.lvm.lv=rl/root rd.lvm.lv=rl/swap rhgb quiet intel_iommu=on iommu=pt\"\n"
    ));
    let off = ensure_kernel_args(&fixture("earlier-intel-iommu-off"), &args);
    assert_eq!(
        off,
        "GRUB_CMDLINE_LINUX=\"console=ttyS0,115200n8 net.ifnames=0 intel_iommu=on iommu=pt\"   # set by the vendor\n"
    );
    let debian = ensure_kernel_args(&fixture("debian12"), &args);
    assert_eq!(
        debian,
        fixture("debian12").replace(
            "GRUB_CMDLINE_LINUX=\"\"\n",
            "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt\"\n"
        )
    );
    let crlf = ensure_kernel_args(&fixture("crlf"), &args);
    assert_eq!(
        crlf,
        "GRUB_TIMEOUT=5\r\nGRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt\"\r\n"
    );
}
