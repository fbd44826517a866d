//! Standalone server binary (the same as `edgeflag serve`); the integration tests spawn it.

use clap::Parser;

#[derive(Parser)]
#[command(name = "edgeflag-server", version, about = "edgeflag flag store, metrics and OFREP server")]
struct Cli {
    #[command(flatten)]
    serve: edgeflag_server::ServeArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    edgeflag_server::run(Cli::parse().serve).await
}
