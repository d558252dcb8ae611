//! Volume labels as udev names them in /dev/disk/by-label, which is what
//! dracut's `hd:LABEL=` matches.

/// udev's escaping: bytes outside `a-zA-Z0-9#+.:=@_-` become `\xNN`. (udev
/// keeps valid multi-byte UTF-8 as is; ISO 9660 volume ids are ASCII-only in
/// practice, so every other byte is escaped here.)
pub fn escape(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for b in label.bytes() {
        if b.is_ascii_alphanumeric() || b"#+-.:=@_".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Whether the label needs escaping at all (GRUB builds differ in how they
/// pass backslashes to the kernel: such labels are fragile).
pub fn needs_escaping(label: &str) -> bool {
    escape(label) != label
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_udev() {
        assert_eq!(escape("Rocky 9.4 x86_64"), r"Rocky\x209.4\x20x86_64");
        assert_eq!(escape("EL10 (x86_64) #@"), r"EL10\x20\x28x86_64\x29\x20#@");
        assert_eq!(escape("Rocky-9-4-x86_64-dvd"), "Rocky-9-4-x86_64-dvd");
        assert_eq!(escape("a/b'c"), r"a\x2fb\x27c");
        assert!(!needs_escaping("OEMDRV"));
        assert!(needs_escaping("A B"));
    }
}
