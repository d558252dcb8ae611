//! The boot loaders' syntax, as minijinja filters for the menu templates in
//! `iso/`: GRUB quoting, isolinux labels and hotkeys, udev label escaping.

use super::udev;

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

/// isolinux's `menu label` with the hotkey marked: `Install ^Front-End`
/// (the first occurrence of `key`; the title as is when it has none).
pub fn hotkey(title: &str, key: &str) -> String {
    match key.chars().next().and_then(|k| title.find(k)) {
        Some(i) => format!("{}^{}", &title[..i], &title[i..]),
        None => title.to_string(),
    }
}

/// An isolinux `label` name from a title: lower case, no spaces or hyphens
/// (`Install Front-End` -> `installfrontend`).
pub fn isolinux_label(title: &str) -> String {
    title.to_lowercase().replace([' ', '-'], "")
}

/// Adds the filters: `grub_quote`, `hotkey(key)`, `isolinux_label`, `udev_escape`.
pub fn add_filters(env: &mut minijinja::Environment<'static>) {
    env.add_filter("grub_quote", |s: String| grub_quote(&s));
    env.add_filter("hotkey", |title: String, key: String| hotkey(&title, &key));
    env.add_filter("isolinux_label", |s: String| isolinux_label(&s));
    env.add_filter("udev_escape", |s: String| udev::escape(&s));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(expr: &str) -> String {
        let mut env = minijinja::Environment::new();
        add_filters(&mut env);
        env.render_str(expr, ()).unwrap()
    }

    #[test]
    fn grub_quoting() {
        assert_eq!(grub_quote("console=ttyS0,115200"), "console=ttyS0,115200");
        assert_eq!(grub_quote(r"a\x20b"), r"'a\x20b'");
        assert_eq!(grub_quote("it's"), r"'it'\''s'");
        assert_eq!(grub_quote(""), "''");
        assert_eq!(
            filter(r#"{{ "Install Front-End" | grub_quote }}"#),
            "'Install Front-End'"
        );
    }

    #[test]
    fn isolinux_labels_and_hotkeys() {
        assert_eq!(hotkey("Install Front-End", "F"), "Install ^Front-End");
        assert_eq!(hotkey("Install minimal OS", "m"), "Install ^minimal OS");
        assert_eq!(hotkey("Rescue", "x"), "Rescue");
        assert_eq!(hotkey("Rescue", ""), "Rescue");
        assert_eq!(isolinux_label("Install Front-End"), "installfrontend");
        assert_eq!(
            filter(
                r#"{{ "Boot from local disk" | hotkey("B") }} {{ "Install Compute Node" | isolinux_label }}"#
            ),
            "^Boot from local disk installcomputenode"
        );
    }

    #[test]
    fn udev_escaping_filter() {
        assert_eq!(
            filter(r#"{{ "EL10 (x86_64) #@" | udev_escape }}"#),
            r"EL10\x20\x28x86_64\x29\x20#@"
        );
    }
}
