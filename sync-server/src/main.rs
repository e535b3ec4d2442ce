//! `gridwork-server`: serve and administer a Gridwork sync server.

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().init();
    Ok(())
}
