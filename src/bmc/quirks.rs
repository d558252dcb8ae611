//! The vendor quirks table (`quirks.yaml`, embedded; `--quirks FILE` replaces
//! it): what differs between makes of BMC is data looked up by name, never a
//! branch in the code.

use anyhow::Context;
use serde::Deserialize;

const BUILT_IN: &str = include_str!("quirks.yaml");

/// Where a BMC lists its virtual media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediaHome {
    System,
    Manager,
}

/// How to drive one make of BMC.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Quirk {
    #[serde(rename = "match")]
    pub pattern: String,
    #[serde(default)]
    pub why: String,
    #[serde(default = "system")]
    pub virtual_media: MediaHome,
    #[serde(default = "cd")]
    pub cd_target: String,
    #[serde(default = "pxe")]
    pub pxe_target: String,
    #[serde(default)]
    pub power_off_before_insert: bool,
    #[serde(default = "once")]
    pub once_reads_back_as: Vec<String>,
}

fn system() -> MediaHome {
    MediaHome::System
}
fn cd() -> String {
    "Cd".to_string()
}
fn pxe() -> String {
    "Pxe".to_string()
}
fn once() -> Vec<String> {
    vec!["Once".to_string()]
}

/// The whole table, in match order.
#[derive(Debug, Clone)]
pub struct Quirks(Vec<Quirk>);

impl Quirks {
    pub fn built_in() -> Quirks {
        Quirks::parse(BUILT_IN, "the built-in quirks table").expect("quirks.yaml parses")
    }

    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Quirks> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the quirks table {}", path.display()))?;
        Quirks::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Quirks> {
        let table: Vec<Quirk> = serde_norway::from_str(text)
            .with_context(|| format!("{origin} is not a quirks table (see src/bmc/quirks.yaml)"))?;
        anyhow::ensure!(
            table.last().is_some_and(|q| q.pattern.is_empty()),
            "{origin}: the last entry must be the default, with `match: \"\"`"
        );
        Ok(Quirks(table))
    }

    /// The entry for a BMC: the first whose pattern is in the system's
    /// manufacturer, else in the service's vendor, else the default.
    pub fn lookup(&self, manufacturer: &str, vendor: &str) -> &Quirk {
        let has = |name: &str, q: &Quirk| {
            !q.pattern.is_empty() && name.to_lowercase().contains(&q.pattern.to_lowercase())
        };
        self.0
            .iter()
            .find(|q| has(manufacturer, q))
            .or_else(|| self.0.iter().find(|q| has(vendor, q)))
            .unwrap_or_else(|| self.0.last().expect("a default entry"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_are_found_by_manufacturer_then_vendor_else_the_default() {
        let q = Quirks::built_in();
        assert_eq!(q.lookup("Supermicro", "").cd_target, "UsbCd");
        assert_eq!(q.lookup("Supermicro", "").virtual_media, MediaHome::Manager);
        assert_eq!(q.lookup("", "Dell").virtual_media, MediaHome::Manager);
        let default = q.lookup("Acme", "Acme");
        assert!(default.pattern.is_empty());
        assert_eq!(default.virtual_media, MediaHome::System);
        assert_eq!(default.cd_target, "Cd");
        assert_eq!(default.once_reads_back_as, ["Once"]);
        assert!(q
            .lookup("Sushy Emulator", "")
            .once_reads_back_as
            .contains(&"Continuous".to_string()));
    }

    #[test]
    fn a_table_without_a_default_or_with_a_typo_is_refused() {
        assert!(Quirks::parse("- match: X\n", "t").is_err());
        let err = Quirks::parse("- match: \"\"\n  cd-targt: Cd\n", "t").unwrap_err();
        assert!(format!("{err:#}").contains("cd-targt"), "{err:#}");
    }
}
