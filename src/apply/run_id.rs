//! A run's id: UTC time and process id, e.g. `20250314T091500Z-4242`. It names
//! the backup directory on the hosts (`/var/lib/aerie/backup/<run-id>/`) and the
//! temporary files of the run's writes.

pub fn new() -> String {
    format!(
        "{}-{}",
        crate::utc::stamp(crate::utc::now()),
        std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_no_dot_or_slash() {
        let id = new();
        assert!(!id.contains('.') && !id.contains('/'), "{id}");
    }
}
