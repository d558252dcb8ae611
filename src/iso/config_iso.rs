//! Small config volumes made without a base image: OEMDRV (anaconda reads
//! `ks.cfg` from any volume with that label) and cidata (cloud-init NoCloud).

use super::output::{self, TempOutput};
use super::payload::{self, Item};
use super::xorriso::Xorriso;
use anyhow::Context;
use std::path::Path;

/// Anaconda looks for a kickstart on a volume with this label.
pub const OEMDRV: &str = "OEMDRV";
/// cloud-init's NoCloud data source looks for a volume with this label.
pub const CIDATA: &str = "cidata";

/// Write an ISO labelled `label` holding `items` to `out` (temp + rename).
pub fn write(
    out: &Path,
    label: &str,
    items: &[Item],
    force: bool,
    on_progress: &mut dyn FnMut(f64),
) -> anyhow::Result<()> {
    output::check_target(out, force)?;
    super::xorriso::check_version()?;
    output::check_room(
        crate::fsutil::parent_or_dot(out),
        payload::size(items) + (4 << 20),
    )?;
    let work = tempfile::Builder::new()
        .prefix("aerie-cfgiso-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    // The staged kickstarts carry secrets: gone if aerie is interrupted too.
    let _interrupt = crate::interrupt::remove_on_interrupt(work.path());
    let maps = payload::stage(items, work.path())?;
    let tmp = TempOutput::new(out)?;
    let mut x = Xorriso::new()
        .progress()
        .no_periodic_sync()
        .outdev(tmp.path())
        .volid(label)
        .joliet();
    for (from, to) in &maps {
        x = x.map(from, to);
    }
    x.run_with_progress(&mut *on_progress)
        .with_context(|| format!("cannot write {}", out.display()))?;
    on_progress(100.0);
    tmp.persist(out, force)
}
