pub fn run(_args: &crate::cli::PreflightArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}
