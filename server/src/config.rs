//! Command-line and environment configuration of `edgeflag serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Options of `edgeflag serve` (also the standalone `edgeflag-server` binary).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the real address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Directory of the durable store (SQLite database `edgeflag.db`).
    #[arg(long, default_value = "./edgeflag-data")]
    pub data_dir: PathBuf,

    /// Flag file imported as version 1 when the store is empty
    /// [default: examples/flags.json when it exists, else an empty flag file].
    #[arg(long)]
    pub flags: Option<PathBuf>,

    /// Directory of the dashboard's built files, served at `/` (a placeholder page when missing).
    #[arg(long, default_value = "dist")]
    pub static_dir: PathBuf,

    /// Run the built-in demo traffic generator (simulated edge traffic for every flag and arm).
    #[arg(long)]
    pub demo: bool,

    /// Admin bearer token for writes. When unset, one is generated on first start, stored
    /// (hashed) in the data directory and printed once.
    #[arg(long, env = "EDGEFLAG_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Name recorded as the author of writes made with `--token`.
    #[arg(long, default_value = "admin")]
    pub token_name: String,

    /// Largest accepted flag-file body (PUT /api/flags), in bytes.
    #[arg(long, default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Largest accepted metric-event batch body, in bytes.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    pub max_events_body_bytes: usize,
}

impl ServeArgs {
    /// Defaults for tests and embedding: loopback port 0, everything else as on the command line.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        ServeArgs {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            flags: None,
            static_dir: PathBuf::from("dist"),
            demo: false,
            token: None,
            token_name: "admin".to_string(),
            max_body_bytes: 1024 * 1024,
            max_events_body_bytes: 8 * 1024 * 1024,
        }
    }
}

/// The default initial flag file, relative to the working directory.
pub const DEFAULT_FLAGS_FILE: &str = "examples/flags.json";
