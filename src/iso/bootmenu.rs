//! aerie's boot menu: what the menus hold (entries, kernel arguments), and
//! their rendering through the templates in `iso/` (isolinux.cfg.j2,
//! grub-bios.cfg.j2, grub-efi.cfg.j2, efi-image-grub.cfg.j2, sharing
//! grub-menu.cfg.j2). The boot loaders' quoting is in [`super::menu_syntax`].
//!
//! Entries: Install Front-End (default), Install Compute Node, Install
//! minimal OS, Rescue, Boot from local disk. The install entries boot
//! `inst.stage2=` and `inst.ks=…:/ks/<role>.cfg` on the media as
//! [`MediaRef`] names it (a label with nothing to escape, else the UUID).

use super::layout::{INITRD, KERNEL};
use super::media_ref::MediaRef;
use super::{menu_syntax, udev};
use crate::templates::{TemplateError, Templates};
use serde::Serialize;
use std::str::FromStr;

/// A serial console: `ttyS0,115200`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// What the menus are made from (the templates see these fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MenuSpec {
    /// Shown as the menu's title (the site's name).
    pub title: String,
    /// The ISO's volume label, as is (GRUB's `search -l` finds its root by it).
    pub label: String,
    /// Where the kernel finds the media (every `inst.stage2=`, `inst.ks=`).
    pub media: MediaRef,
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

/// One menu entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
            kernel_args: tail(vec![spec.media.stage2_arg(), spec.media.ks_arg(name)]),
        })
        .collect();
    out.push(Entry {
        title: "Rescue",
        hotkey: 'R',
        kernel_args: tail(vec![spec.media.stage2_arg(), "inst.rescue".into()]),
    });
    out.push(Entry {
        title: "Boot from local disk",
        hotkey: 'B',
        kernel_args: None,
    });
    out
}

/// A menu aerie writes, and the template in `iso/` that makes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuFile {
    /// `/isolinux/isolinux.cfg` (EL9 BIOS).
    Isolinux,
    /// `/boot/grub2/grub.cfg` (EL10 BIOS): local disk by chainloading.
    GrubBios,
    /// `/EFI/BOOT/grub.cfg`: local disk by leaving GRUB (`exit`).
    GrubEfi,
    /// `EFI/BOOT/grub.cfg` inside the EFI image.
    EfiImage,
}

impl MenuFile {
    pub fn template(self) -> &'static str {
        match self {
            MenuFile::Isolinux => "isolinux.cfg.j2",
            MenuFile::GrubBios => "grub-bios.cfg.j2",
            MenuFile::GrubEfi => "grub-efi.cfg.j2",
            MenuFile::EfiImage => "efi-image-grub.cfg.j2",
        }
    }
}

/// What the menu templates see: the spec's fields, the kernel and initrd,
/// the entries with their kernel arguments, and `device`, the media's
/// `hd:LABEL=…`/`hd:UUID=…` reference.
#[derive(Serialize)]
struct Context<'a> {
    #[serde(flatten)]
    spec: &'a MenuSpec,
    kernel: &'static str,
    initrd: &'static str,
    entries: Vec<Entry>,
    device: String,
}

/// The templates with the menus' filters (see [`menu_syntax::add_filters`])
/// and functions `stage2_arg(device)`, `ks_arg(device, role)` (`device` as
/// the context has it: `hd:UUID=…` or `hd:LABEL=…`, never to be escaped).
pub fn menu_templates(templates: &Templates) -> Templates {
    templates.extended(|env| {
        menu_syntax::add_filters(env);
        env.add_function("stage2_arg", |device: String| {
            format!("inst.stage2={device}")
        });
        env.add_function("ks_arg", |device: String, role: String| {
            format!("inst.ks={device}:/ks/{role}.cfg")
        });
    })
}

/// Render one menu. `templates` must come from [`menu_templates`].
pub fn render(
    templates: &Templates,
    spec: &MenuSpec,
    menu: MenuFile,
) -> Result<String, TemplateError> {
    let context = Context {
        spec,
        kernel: KERNEL,
        initrd: INITRD,
        entries: entries(spec),
        device: spec.media.device(),
    };
    templates.render(menu.template(), &context)
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

/// What is said when the base's own `inst.stage2=` is replaced: why, when
/// its label needs escaping (GRUB doubles backslashes on the kernel's
/// command line, so dracut would never find such a label).
pub fn stage2_change(label: &str, base: &str, new: &str) -> Option<String> {
    (base != new).then(|| {
        let why = if udev::needs_escaping(label) {
            format!(
                ": the label {label:?} needs udev escaping ({}), and GRUB doubles every \
                 backslash on the kernel's command line, so every entry finds the media by \
                 UUID instead",
                udev::escape(label)
            )
        } else {
            String::new()
        };
        format!("the base's {base} is {new} in aerie's menus{why}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MenuSpec {
        MenuSpec {
            title: "lab".into(),
            label: "Rocky 9.4 x86_64".into(),
            media: MediaRef::for_iso("Rocky 9.4 x86_64", "2026112118300500"),
            console: Some("ttyS0,115200".parse().unwrap()),
            kargs: vec!["ip=dhcp".into()],
            timeout_s: 7,
            isolinux_ui: "menu.c32".into(),
        }
    }

    fn menu(spec: &MenuSpec, file: MenuFile) -> String {
        render(&menu_templates(&Templates::new(None).unwrap()), spec, file).unwrap()
    }

    #[test]
    fn argument_functions_in_templates() {
        let t = menu_templates(&Templates::new(None).unwrap()).extended(|env| {
            env.add_template(
                "t",
                r#"{{ stage2_arg("hd:UUID=x") }} {{ ks_arg("hd:UUID=x", "compute") }}"#,
            )
            .unwrap();
        });
        assert_eq!(
            t.render("t", &()).unwrap(),
            "inst.stage2=hd:UUID=x inst.ks=hd:UUID=x:/ks/compute.cfg"
        );
    }

    #[test]
    fn isolinux_menu() {
        let s = menu(&spec(), MenuFile::Isolinux);
        assert!(
            s.starts_with("serial 0 115200\ndefault menu.c32\ntimeout 70\nmenu title aerie installer: lab\n\nlabel installfrontend\n"),
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
            "  append initrd=/images/pxeboot/initrd.img inst.stage2=hd:UUID=2026-11-21-18-30-05-00 inst.ks=hd:UUID=2026-11-21-18-30-05-00:/ks/frontend.cfg console=tty0 console=ttyS0,115200 ip=dhcp"
        ), "{s}");
        assert!(s.contains("inst.rescue console=tty0"));
        assert!(s.ends_with("\nlabel bootfromlocaldisk\n  menu label ^Boot from local disk\n  localboot 0xffff\n"), "{s}");
        assert_eq!(s.matches("menu default").count(), 1);
    }

    #[test]
    fn isolinux_without_console_and_zero_timeout() {
        let mut sp = spec();
        sp.console = None;
        sp.timeout_s = 0;
        let s = menu(&sp, MenuFile::Isolinux);
        assert!(s.starts_with("default menu.c32\ntimeout 1\n"), "{s}");
        assert!(!s.contains("console="));
    }

    #[test]
    fn grub_menus() {
        let efi = menu(&spec(), MenuFile::GrubEfi);
        assert!(efi.starts_with(
            "# aerie installer menu for site lab\nserial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\nset default=0\nset timeout=7\n"
        ), "{efi}");
        assert!(efi.contains("search --no-floppy --set=root -l 'Rocky 9.4 x86_64'\n\nmenuentry 'Install Front-End' --hotkey=f {\n"), "{efi}");
        assert!(efi.contains(
            "\tlinux /images/pxeboot/vmlinuz inst.stage2=hd:UUID=2026-11-21-18-30-05-00 inst.ks=hd:UUID=2026-11-21-18-30-05-00:/ks/frontend.cfg console=tty0 console=ttyS0,115200 ip=dhcp\n\tinitrd /images/pxeboot/initrd.img\n}\n"
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
        assert!(efi.ends_with("--hotkey=b {\n\texit\n}\n"), "{efi}");
        assert_eq!(menu(&spec(), MenuFile::EfiImage), efi);
        let bios = menu(&spec(), MenuFile::GrubBios);
        assert!(
            bios.ends_with("--hotkey=b {\n\tchainloader (hd0)+1\n}\n"),
            "{bios}"
        );
        let mut sp = spec();
        sp.console = None;
        assert!(!menu(&sp, MenuFile::GrubEfi).contains("serial"));
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
    fn says_why_the_base_stage2_is_replaced() {
        let l = "inst.stage2=hd:LABEL=Rocky-9";
        assert_eq!(stage2_change("Rocky-9", l, l), None);
        let said = stage2_change(
            "Rocky 9.4",
            r"inst.stage2=hd:LABEL=Rocky\x209.4",
            "inst.stage2=hd:UUID=2026-11-21-18-30-05-00",
        )
        .unwrap();
        assert!(
            said.contains("GRUB doubles") && said.contains(r"Rocky\x209.4"),
            "{said}"
        );
    }
}
