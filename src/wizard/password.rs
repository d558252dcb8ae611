//! The root password: typed hidden, twice, and kept only as a SHA-512 crypt
//! hash. The plain text lives in a zeroized buffer for the moment it takes to
//! hash it, and is never shown or logged.

use super::ask;
use crate::site::fields::PasswordHash;
use dialoguer::theme::ColorfulTheme;
use dialoguer::Password;

pub fn ask(existing: Option<&PasswordHash>) -> anyhow::Result<Option<PasswordHash>> {
    if let Some(hash) = existing {
        if ask::yes("Keep the current root password?", true)? {
            return Ok(Some(hash.clone()));
        }
    }
    if !ask::yes(
        "Set a root password (stored only as a SHA-512 crypt hash)?",
        existing.is_none(),
    )? {
        return Ok(None);
    }
    let theme = ColorfulTheme::default();
    let password = zeroize::Zeroizing::new(
        Password::with_theme(&theme)
            .with_prompt("Root password")
            .with_confirmation(
                "Type it again",
                "the two passwords differ; type it twice again",
            )
            .interact()?,
    );
    Ok(Some(PasswordHash::from_password(&password)?))
}
