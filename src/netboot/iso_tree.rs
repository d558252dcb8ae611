//! The base ISO's files, served straight from the ISO file: xorriso (through
//! aerie's binding) reports where each file's data lies, and the server
//! streams that byte range. Nothing is mounted and nothing is copied; the
//! whole tree (kernel, initrd, stage2, the package repository) is there.

use crate::iso::probe::unquote;
use crate::iso::xorriso::Xorriso;
use anyhow::Context;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const BLOCK: u64 = 2048;

/// Where a file's data lies in the ISO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub offset: u64,
    pub len: u64,
}

/// Every regular file of a base ISO.
#[derive(Debug, Clone)]
pub struct IsoTree {
    pub iso: PathBuf,
    files: HashMap<String, Extent>,
}

/// What the base lacks for a network install.
#[derive(Debug, thiserror::Error)]
#[error("{iso} has no {missing}: it is not an installer ISO aerie can boot from the network (it serves the installer's kernel and initrd from images/pxeboot/ of a Rocky, Alma or CentOS Stream ISO); give such an ISO as --base")]
pub struct NotBootable {
    pub iso: PathBuf,
    pub missing: String,
}

impl IsoTree {
    /// Index `iso` with `xorriso -find / -type f -exec report_lba`.
    pub fn read(iso: &Path) -> anyhow::Result<IsoTree> {
        if !iso.is_file() {
            return Err(crate::iso::IsoError::BaseMissing {
                path: iso.to_path_buf(),
            }
            .into());
        }
        let out = Xorriso::new()
            .indev(iso)
            .report_lba()
            .run()
            .with_context(|| format!("cannot read {}", iso.display()))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("No ISO 9660 image") || stderr.contains("is blank") {
            return Err(crate::iso::IsoError::NotAnIso {
                path: iso.to_path_buf(),
                detail: "xorriso found no ISO 9660 volume descriptor".into(),
            }
            .into());
        }
        Ok(IsoTree {
            iso: iso.to_path_buf(),
            files: parse(&String::from_utf8_lossy(&out.stdout)),
        })
    }

    /// The file at `path` (no leading `/`), if the ISO has it.
    pub fn get(&self, path: &str) -> Option<Extent> {
        self.files.get(path.trim_start_matches('/')).copied()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Refuse a base without the installer's kernel and initrd.
    pub fn require(&self, paths: &[&str]) -> Result<(), NotBootable> {
        let missing: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| self.get(p).is_none())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(NotBootable {
            iso: self.iso.clone(),
            missing: missing
                .iter()
                .map(|m| format!("/{m}"))
                .collect::<Vec<_>>()
                .join(" and "),
        })
    }
}

/// `File data lba:  XT , START , BLOCKS , SIZE , 'PATH'` lines; a file in
/// several extents is kept only when they are contiguous (xorriso writes
/// them so), otherwise it is left out rather than served wrong.
pub fn parse(stdout: &str) -> HashMap<String, Extent> {
    let mut files: HashMap<String, Extent> = HashMap::new();
    let mut broken = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("File data lba:") else {
            continue;
        };
        let mut fields = rest.splitn(5, ',');
        let mut num = || fields.next().and_then(|f| f.trim().parse::<u64>().ok());
        let (Some(xt), Some(start), Some(_blocks), Some(size)) = (num(), num(), num(), num())
        else {
            continue;
        };
        let Some(path) = fields.next() else { continue };
        let path = unquote(path).trim_start_matches('/').to_string();
        let offset = start * BLOCK;
        if xt == 0 {
            files.insert(path, Extent { offset, len: size });
        } else if let Some(e) = files.get_mut(&path) {
            if offset == e.offset + e.len {
                e.len += size;
            } else {
                broken.push(path);
            }
        }
    }
    for path in broken {
        files.remove(&path);
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_xorriso_report_lba() {
        let text = "Report layout: xt , Startlba ,   Blocks , Filesize , ISO image path\nFile data lba:  0 ,    25196 ,        1 ,       29 , '/.discinfo'\nFile data lba:  0 ,    21012 ,     4015 ,  8222656 , '/images/pxeboot/vmlinuz'\nFile data lba:  0 ,    100 ,     1 ,  2048 , '/it'\"'\"'s'\n";
        let files = parse(text);
        assert_eq!(
            files["images/pxeboot/vmlinuz"],
            Extent {
                offset: 21012 * 2048,
                len: 8222656
            }
        );
        assert_eq!(files[".discinfo"].len, 29);
        assert!(files.contains_key("it's"));
    }

    #[test]
    fn contiguous_extents_join_and_scattered_ones_are_left_out() {
        let text = "File data lba:  0 , 10 , 2 , 4096 , '/big'\nFile data lba:  1 , 12 , 1 , 100 , '/big'\nFile data lba:  0 , 20 , 1 , 2048 , '/odd'\nFile data lba:  1 , 30 , 1 , 10 , '/odd'\n";
        let files = parse(text);
        assert_eq!(
            files["big"],
            Extent {
                offset: 20480,
                len: 4196
            }
        );
        assert!(!files.contains_key("odd"));
    }
}
