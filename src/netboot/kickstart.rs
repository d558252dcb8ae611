//! A node's kickstart on the network road: the rendered one, plus a %post
//! that tells the boot server the install is done (so the node boots its
//! disk from then on, never reinstalling by accident).

/// `ks` with the install-done callback to `url` appended.
pub fn with_callback(ks: &str, url: &str) -> String {
    let mut out = String::with_capacity(ks.len() + 400);
    out.push_str(ks);
    if !ks.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "\n# aerie pxe: tell the boot server this node is installed; it then boots\n\
         # its local disk until `aerie pxe reinstall`. Without the answer the node\n\
         # would install again at its next network boot, so a failure stops here.\n\
         %post --nochroot --erroronfail\n\
         curl -fsS --retry 10 --retry-connrefused --retry-delay 3 -X POST {url}\n\
         %end\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_is_a_post_section_of_its_own() {
        let ks = with_callback(
            "text\nreboot\n%packages\n@core\n%end\n",
            "http://10.0.0.2:8080/done/n1",
        );
        assert!(ks.ends_with("%post --nochroot --erroronfail\ncurl -fsS --retry 10 --retry-connrefused --retry-delay 3 -X POST http://10.0.0.2:8080/done/n1\n%end\n"), "{ks}");
        assert!(ks.starts_with("text\nreboot\n%packages\n@core\n%end\n\n# aerie pxe"));
    }
}
