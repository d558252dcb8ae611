//! aerie's boot menu, as isolinux.cfg and grub.cfg text. Pure: from the
//! base's label and stage2 argument and the command-line options.
//!
//! Entries: Install Front-End (default), Install Compute Node, Install
//! minimal OS, Rescue, Boot from local disk. The install entries boot
//! `inst.ks=hd:LABEL=<udev-escaped label>:/ks/<role>.cfg`.

use super::layout::{INITRD, KERNEL};
use super::udev;
use std::fmt::Write;
use std::str::FromStr;

/// A serial console: `ttyS0,115200`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Console {
    pub unit: u32,
    pub speed: u32,
}

impl FromStr for Console {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (dev, speed) = s.split_once(',').unwrap_or((s, "115200"));
        let unit = dev
            .strip_prefix("ttyS")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("`{s}`: the console must be a serial port like ttyS0,115200"))?;
        let speed = speed
            .parse()
            .ok()
            .filter(|s| [9600, 19200, 38400, 57600, 115200].contains(s))
            .ok_or_else(|| {
                format!("`{s}`: the speed must be one of 9600, 19200, 38400, 57600, 115200")
            })?;
        Ok(Console { unit, speed })
    }
}

impl Console {
    /// Kernel arguments: the VGA console and the serial one (the last named
    /// is /dev/console, where anaconda's text UI goes).
    pub fn kernel_args(&self) -> [String; 2] {
        [
            "console=tty0".to_string(),
            format!("console=ttyS{},{}", self.unit, self.speed),
        ]
    }
}

/// What the menus are made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuSpec {
    /// Shown as the menu's title (the site's name).
    pub title: String,
    /// The ISO's volume label, as is (escaped here).
    pub label: String,
    /// The base's own `inst.stage2=…` argument, kept.
    pub stage2: String,
    pub console: Option<Console>,
    /// Extra kernel arguments (`--kargs`), each one word.
    pub kargs: Vec<String>,
    /// Seconds before the default entry boots.
    pub timeout_s: u32,
    /// isolinux's menu module (`vesamenu.c32` on real media, `menu.c32`).
    pub isolinux_ui: String,
}

/// The kickstart an entry boots, relative to `/ks/` on the ISO.
pub const ROLE_KICKSTARTS: [(&str, &str, char); 3] = [
    ("Install Front-End", "frontend", 'F'),
    ("Install Compute Node", "compute", 'C'),
    ("Install minimal OS", "minimal", 'm'),
];

/// `inst.stage2=hd:LABEL=<escaped>`: the installer's stage 2 on the media
/// labelled `label` (what lorax writes into its menus).
pub fn stage2_arg(label: &str) -> String {
    format!("inst.stage2=hd:LABEL={}", udev::escape(label))
}

/// `inst.ks=hd:LABEL=<escaped>:/ks/<name>.cfg`.
pub fn ks_arg(label: &str, name: &str) -> String {
    format!("inst.ks=hd:LABEL={}:/ks/{name}.cfg", udev::escape(label))
}

/// One menu entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub title: &'static str,
    pub hotkey: char,
    /// None: boot from the local disk.
    pub kernel_args: Option<Vec<String>>,
}

/// The five entries, default first.
pub fn entries(spec: &MenuSpec) -> Vec<Entry> {
    let tail = |mut args: Vec<String>| {
        if let Some(c) = &spec.console {
            args.extend(c.kernel_args());
        }
        args.extend(spec.kargs.iter().cloned());
        Some(args)
    };
    let mut out: Vec<Entry> = ROLE_KICKSTARTS
        .iter()
        .map(|(title, name, hotkey)| Entry {
            title,
            hotkey: *hotkey,
            kernel_args: tail(vec![spec.stage2.clone(), ks_arg(&spec.label, name)]),
        })
        .collect();
    out.push(Entry {
        title: "Rescue",
        hotkey: 'R',
        kernel_args: tail(vec![spec.stage2.clone(), "inst.rescue".into()]),
    });
    out.push(Entry {
        title: "Boot from local disk",
        hotkey: 'B',
        kernel_args: None,
    });
    out
}

/// `/isolinux/isolinux.cfg`. isolinux passes `append` text unchanged.
pub fn isolinux_cfg(spec: &MenuSpec) -> String {
    let mut s = String::new();
    if let Some(c) = &spec.console {
        // Must be the first line.
        let _ = writeln!(s, "serial {} {}", c.unit, c.speed);
    }
    let _ = writeln!(s, "default {}", spec.isolinux_ui);
    // Tenths of a second; 0 would mean "wait forever".
    let _ = writeln!(s, "timeout {}", (spec.timeout_s * 10).max(1));
    let _ = writeln!(s, "menu title aerie installer: {}", spec.title);
    for (i, e) in entries(spec).iter().enumerate() {
        let name = e.title.to_lowercase().replace([' ', '-'], "");
        let _ = writeln!(s, "\nlabel {name}");
        let _ = writeln!(s, "  menu label {}", hotkey_label(e.title, e.hotkey));
        if i == 0 {
            let _ = writeln!(s, "  menu default");
        }
        match &e.kernel_args {
            Some(args) => {
                let _ = writeln!(s, "  kernel {KERNEL}");
                let _ = writeln!(s, "  append initrd={INITRD} {}", args.join(" "));
            }
            None => {
                let _ = writeln!(s, "  localboot 0xffff");
            }
        }
    }
    s
}

fn hotkey_label(title: &str, key: char) -> String {
    match title.find(key) {
        Some(i) => format!("{}^{}", &title[..i], &title[i..]),
        None => title.to_string(),
    }
}

/// Which firmware a grub.cfg is for (how "boot from local disk" works).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrubTarget {
    Bios,
    Efi,
}

/// A word for GRUB's parser: bare when safe, else single-quoted (`'` as
/// `'\''`). Backslashes (`\x20` of escaped labels) must be quoted or GRUB
/// eats them.
pub fn grub_quote(arg: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "._,:=/+@%-".contains(c);
    if !arg.is_empty() && arg.chars().all(safe) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// `grub.cfg` for the ISO tree (`/EFI/BOOT/grub.cfg`, `/boot/grub2/grub.cfg`)
/// and the EFI image: the same menu wherever GRUB looks.
pub fn grub_cfg(spec: &MenuSpec, target: GrubTarget) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# aerie installer menu for site {}", spec.title);
    if let Some(c) = &spec.console {
        let _ = writeln!(s, "serial --unit={} --speed={}", c.unit, c.speed);
        let _ = writeln!(s, "terminal_input serial");
        let _ = writeln!(s, "terminal_output serial");
    }
    let _ = writeln!(s, "set default=0");
    let _ = writeln!(s, "set timeout={}", spec.timeout_s);
    let _ = writeln!(
        s,
        "search --no-floppy --set=root -l {}",
        grub_quote(&spec.label)
    );
    for e in entries(spec) {
        let _ = writeln!(
            s,
            "\nmenuentry {} --hotkey={} {{",
            grub_quote(e.title),
            e.hotkey.to_ascii_lowercase()
        );
        match (&e.kernel_args, target) {
            (Some(args), _) => {
                let args: Vec<String> = args.iter().map(|a| grub_quote(a)).collect();
                let _ = writeln!(s, "\tlinux {KERNEL} {}", args.join(" "));
                let _ = writeln!(s, "\tinitrd {INITRD}");
            }
            (None, GrubTarget::Efi) => {
                let _ = writeln!(s, "\texit");
            }
            (None, GrubTarget::Bios) => {
                let _ = writeln!(s, "\tchainloader (hd0)+1");
            }
        }
        let _ = writeln!(s, "}}");
    }
    s
}

/// `inst.stage2=…` from a base menu's text (isolinux or GRUB, quoted or not).
pub fn find_stage2(menu: &str) -> Option<String> {
    let i = menu.find("inst.stage2=")?;
    let rest = &menu[i..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '\'' || c == '"')
        .unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// A warning for labels GRUB may hand to the kernel differently: Debian's
/// GRUB 2.06 doubles backslashes on the command line (`\x20` -> `\\x20`),
/// isolinux does not.
pub fn label_warning(label: &str) -> Option<String> {
    udev::needs_escaping(label).then(|| {
        format!(
            "the base's label {label:?} needs udev escaping ({}); isolinux passes it as is, but \
             some GRUB builds double the backslashes on the kernel command line, so UEFI (and \
             EL10 BIOS) boots may not find the media by label. lorax-built media use labels \
             without such characters.",
            udev::escape(label)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MenuSpec {
        MenuSpec {
            title: "lab".into(),
            label: "Rocky 9.4 x86_64".into(),
            stage2: r"inst.stage2=hd:LABEL=Rocky\x209.4\x20x86_64".into(),
            console: Some("ttyS0,115200".parse().unwrap()),
            kargs: vec!["ip=dhcp".into()],
            timeout_s: 7,
            isolinux_ui: "menu.c32".into(),
        }
    }

    #[test]
    fn ks_argument_escapes_the_label() {
        assert_eq!(
            ks_arg("EL10 (x86_64) #@", "frontend"),
            r"inst.ks=hd:LABEL=EL10\x20\x28x86_64\x29\x20#@:/ks/frontend.cfg"
        );
    }

    #[test]
    fn stage2_argument_escapes_the_label() {
        assert_eq!(
            stage2_arg("Rocky 9.4 x86_64"),
            r"inst.stage2=hd:LABEL=Rocky\x209.4\x20x86_64"
        );
    }

    #[test]
    fn isolinux_menu() {
        let s = isolinux_cfg(&spec());
        assert!(
            s.starts_with("serial 0 115200\ndefault menu.c32\ntimeout 70\n"),
            "{s}"
        );
        for t in [
            "^Front-End",
            "^Compute Node",
            "^minimal OS",
            "^Rescue",
            "^Boot from local disk",
        ] {
            assert!(s.contains(t), "{t}: {s}");
        }
        let fe = s.split("label installfrontend").nth(1).unwrap();
        assert!(
            fe.starts_with("\n  menu label Install ^Front-End\n  menu default\n"),
            "{s}"
        );
        assert!(s.contains(
            r"  append initrd=/images/pxeboot/initrd.img inst.stage2=hd:LABEL=Rocky\x209.4\x20x86_64 inst.ks=hd:LABEL=Rocky\x209.4\x20x86_64:/ks/frontend.cfg console=tty0 console=ttyS0,115200 ip=dhcp"
        ), "{s}");
        assert!(s.contains("inst.rescue console=tty0"));
        assert!(s.contains("  localboot 0xffff"));
        assert_eq!(s.matches("menu default").count(), 1);
    }

    #[test]
    fn isolinux_without_console_and_zero_timeout() {
        let mut sp = spec();
        sp.console = None;
        sp.timeout_s = 0;
        let s = isolinux_cfg(&sp);
        assert!(s.starts_with("default menu.c32\ntimeout 1\n"), "{s}");
        assert!(!s.contains("console="));
    }

    #[test]
    fn grub_menus() {
        let efi = grub_cfg(&spec(), GrubTarget::Efi);
        assert!(efi.contains(
            "serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\n"
        ));
        assert!(efi.contains("set default=0\nset timeout=7\n"));
        assert!(efi.contains("search --no-floppy --set=root -l 'Rocky 9.4 x86_64'"));
        assert!(efi.contains(
            r"linux /images/pxeboot/vmlinuz 'inst.stage2=hd:LABEL=Rocky\x209.4\x20x86_64' 'inst.ks=hd:LABEL=Rocky\x209.4\x20x86_64:/ks/frontend.cfg' console=tty0 console=ttyS0,115200 ip=dhcp"
        ), "{efi}");
        let titles: Vec<&str> = efi
            .lines()
            .filter_map(|l| l.strip_prefix("menuentry "))
            .map(|l| l.split(" --hotkey").next().unwrap().trim_matches('\''))
            .collect();
        assert_eq!(
            titles,
            [
                "Install Front-End",
                "Install Compute Node",
                "Install minimal OS",
                "Rescue",
                "Boot from local disk"
            ]
        );
        assert!(efi.contains("\texit\n"));
        let bios = grub_cfg(&spec(), GrubTarget::Bios);
        assert!(bios.contains("\tchainloader (hd0)+1\n"));
        let mut sp = spec();
        sp.console = None;
        assert!(!grub_cfg(&sp, GrubTarget::Efi).contains("serial"));
    }

    #[test]
    fn grub_quoting() {
        assert_eq!(grub_quote("console=ttyS0,115200"), "console=ttyS0,115200");
        assert_eq!(grub_quote(r"a\x20b"), r"'a\x20b'");
        assert_eq!(grub_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn consoles() {
        assert_eq!(
            "ttyS1".parse::<Console>().unwrap(),
            Console {
                unit: 1,
                speed: 115200
            }
        );
        assert!("tty0".parse::<Console>().is_err());
        assert!("ttyS0,1234".parse::<Console>().is_err());
    }

    #[test]
    fn finds_the_base_stage2() {
        assert_eq!(
            find_stage2("  append initrd=initrd.img inst.stage2=hd:LABEL=Rocky-9 quiet").as_deref(),
            Some("inst.stage2=hd:LABEL=Rocky-9")
        );
        assert_eq!(
            find_stage2(r"linux /v 'inst.stage2=hd:LABEL=EL10\x20#@' quiet").as_deref(),
            Some(r"inst.stage2=hd:LABEL=EL10\x20#@")
        );
        assert_eq!(find_stage2("nothing"), None);
    }

    #[test]
    fn warns_about_labels_needing_escapes() {
        assert!(label_warning("Rocky-9-4-x86_64-dvd").is_none());
        assert!(label_warning("Rocky 9.4")
            .unwrap()
            .contains(r"Rocky\x209.4"));
    }
}
