pub fn run(_args: &crate::cli::StatusArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
