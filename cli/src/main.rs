//! `gridwork`: a headless device and a supervisor's office tool over the core.

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    Ok(())
}
