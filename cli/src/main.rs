//! `edgeflag`: validate and evaluate flag files, print bucketing, serve, manage tokens.
//!
//! Exit codes: 0 success; 1 the input is invalid (problems printed); 2 usage or I/O error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use edgeflag_evaluator::{hashing, Context, FlagSet};

#[derive(Parser)]
#[command(name = "edgeflag", version, about = "Feature flags and canaries: one engine for servers, edges and browsers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Flag file formats `eval` reads.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Native,
    Unleash,
}

#[derive(Subcommand)]
enum Command {
    /// Check a flag file; print every problem with its path.
    Validate {
        file: PathBuf,
    },
    /// Evaluate one flag (or all) for a context; prints JSON.
    Eval {
        file: PathBuf,
        /// Flag key (omit with --all).
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        flag: Option<String>,
        /// Evaluate every flag.
        #[arg(long)]
        all: bool,
        /// Environment whose overrides apply (dev, staging, prod...).
        #[arg(long)]
        env: Option<String>,
        /// Evaluation context as JSON, e.g. '{"targetingKey":"user-1","country":"FR"}'.
        #[arg(long, default_value = "{}")]
        context: String,
        /// `unleash`: FILE is an Unleash client API payload, --flag a feature name, --context an
        /// Unleash context; prints `{"name","enabled","variant"}` (see evaluator/UNLEASH.md).
        #[arg(long, value_enum, default_value_t = Format::Native)]
        format: Format,
    },
    /// Print murmur3 hash and bucket of a unit under a salt (the published bucketing spec).
    Bucket {
        salt: String,
        unit: String,
    },
    /// Print the JSON Schema of the flag file.
    Schema,
    /// Run the server: flag store, metrics, OFREP and the dashboard.
    // Boxed: the server's options dwarf every other command's.
    Serve(Box<edgeflag_server::ServeArgs>),
    /// Manage the server's tokens (stored hashed in the store's database; a running server
    /// sees changes within about a second).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Write the published flag file and its manifest into DIR (flags.json, manifest.json,
    /// versions/<n>.json), for object storage and a CDN to feed edges without the server.
    Export {
        dir: PathBuf,
        /// Export this version instead of the newest.
        #[arg(long)]
        version: Option<u64>,
        #[command(flatten)]
        store: StoreArg,
    },
}

/// Which store to open (as `edgeflag serve`'s `--data-dir` and `--store`).
#[derive(clap::Args)]
struct StoreArg {
    #[arg(long, default_value = "./edgeflag-data")]
    data_dir: PathBuf,
    /// `postgres://user:password@host:port/db` [default: SQLite in --data-dir].
    #[arg(long, env = "EDGEFLAG_STORE", hide_env_values = true)]
    store: Option<String>,
}

impl StoreArg {
    fn location(&self) -> Result<edgeflag_server::Location, String> {
        edgeflag_server::Location::parse(self.store.as_deref(), &self.data_dir).map_err(|e| format!("{e:#}"))
    }
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (only this once; the store keeps its SHA-256).
    Create {
        /// The token's name, recorded as the author of its writes.
        name: String,
        /// admin (write flags, post events), ingest (post metric events), read.
        #[arg(long, value_parser = ["admin", "ingest", "read"])]
        role: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// List the stored tokens (names, roles, dates; never the tokens).
    List {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Revoke a token: requests with it are refused from then on.
    Revoke {
        name: String,
        #[command(flatten)]
        store: StoreArg,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("edgeflag: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Serve(args) => {
            let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))?;
            runtime.block_on(edgeflag_server::run(*args)).map_err(|e| format!("{e:#}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command } => token(command),
        Command::Export { dir, version, store } => export(&dir, version, &store),
        Command::Validate { file } => {
            let text = read(&file)?;
            match FlagSet::from_json(&text) {
                Ok(set) => {
                    println!("{}: ok ({} flags)", file.display(), set.len());
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    eprintln!("{}: {errors}", file.display());
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Eval { file, flag, all, env, context, format: Format::Unleash } => {
            if env.is_some() {
                return Err("--env does not apply to --format unleash: put \"environment\" in --context".into());
            }
            eval_unleash(&file, flag, all, &context)
        }
        Command::Eval { file, flag, all, env, context, format: Format::Native } => {
            let text = read(&file)?;
            let set = match FlagSet::from_json(&text) {
                Ok(set) => set,
                Err(errors) => {
                    eprintln!("{}: {errors}", file.display());
                    return Ok(ExitCode::from(1));
                }
            };
            let context = Context::from_json(&context).map_err(|e| format!("--context: {e}"))?;
            let output = if all {
                serde_json::to_string_pretty(&set.evaluate_all(&context, env.as_deref()))
            } else {
                let key = flag.unwrap_or_default();
                serde_json::to_string_pretty(&set.evaluate(&key, &context, env.as_deref()))
            };
            println!("{}", output.map_err(|e| e.to_string())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bucket { salt, unit } => {
            let result = serde_json::json!({
                "salt": salt,
                "unit": unit,
                "hash": hashing::hash(&salt, &unit),
                "bucket": hashing::bucket(&salt, &unit),
            });
            println!("{result}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            let schema = edgeflag_evaluator::json_schema();
            println!("{}", serde_json::to_string_pretty(&schema).map_err(|e| e.to_string())?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `edgeflag token ...`.
fn token(command: TokenCommand) -> Result<ExitCode, String> {
    use edgeflag_server::auth::{Role, TokenStore};
    let err = |e: anyhow::Error| format!("{e:#}");
    match command {
        TokenCommand::Create { name, role, store } => {
            let role = Role::parse(&role).ok_or_else(|| format!("unknown role {role:?}"))?;
            let location = store.location()?;
            let store = TokenStore::open_at(&location, true).map_err(err)?;
            let token = store.create(&name, role).map_err(err)?;
            // The token alone on stdout, so `TOKEN=$(edgeflag token create ...)` works.
            println!("{token}");
            eprintln!(
                "edgeflag: token {name:?} (role {}) created in {}; it is shown only this once",
                role.as_str(),
                location
            );
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List { store } => {
            let store = TokenStore::open_at(&store.location()?, false).map_err(err)?;
            let tokens = store.list().map_err(err)?;
            let width = tokens.iter().map(|t| t.name.len()).max().unwrap_or(4).max(4);
            println!("{:width$}  {:6}  {:25}  REVOKED", "NAME", "ROLE", "CREATED");
            for t in &tokens {
                println!(
                    "{:width$}  {:6}  {:25}  {}",
                    t.name,
                    t.role.as_str(),
                    t.created_at,
                    t.revoked_at.as_deref().unwrap_or("-")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke { name, store } => {
            let store = TokenStore::open_at(&store.location()?, false).map_err(err)?;
            store.revoke(&name).map_err(err)?;
            eprintln!("edgeflag: token {name:?} revoked");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `edgeflag export DIR`: the published file (or `--version N`) and its manifest; prints the
/// manifest.
fn export(dir: &Path, version: Option<u64>, store: &StoreArg) -> Result<ExitCode, String> {
    use edgeflag_server::export::{export_version, Manifest};
    let location = store.location()?;
    let backend = location.open(false).map_err(|e| format!("{e:#}"))?;
    let n = match version {
        Some(n) => n,
        None => backend.latest_version().map_err(|e| e.to_string())?,
    };
    let row = backend
        .version_row(n)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| if n == 0 { format!("the store {location} is empty") } else { format!("version {n} does not exist in {location}") })?;
    let manifest = Manifest::new(row.version, &row.etag, row.body.as_bytes(), &row.created_at);
    let manifest = export_version(manifest, row.body.as_bytes(), dir).map_err(|e| format!("{e:#}"))?;
    println!("{}", serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?);
    eprintln!("edgeflag: version {} exported to {}", manifest.version, dir.display());
    Ok(ExitCode::SUCCESS)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// `eval --format unleash`: isEnabled and getVariant as the Unleash SDKs answer them.
fn eval_unleash(file: &Path, flag: Option<String>, all: bool, context: &str) -> Result<ExitCode, String> {
    use edgeflag_evaluator::unleash::{now_ms, UnleashContext, UnleashSet};
    let text = read(file)?;
    let set = match UnleashSet::from_json(&text) {
        Ok(set) => set,
        Err(errors) => {
            eprintln!("{}: {errors}", file.display());
            return Ok(ExitCode::from(1));
        }
    };
    let context = UnleashContext::from_json(context, now_ms()).map_err(|e| format!("--context: {e}"))?;
    let key = flag.unwrap_or_default();
    let output = if all {
        serde_json::to_string_pretty(&set.evaluate_all(&context))
    } else {
        serde_json::to_string_pretty(&set.evaluate(&key, &context))
    };
    println!("{}", output.map_err(|e| e.to_string())?);
    Ok(ExitCode::SUCCESS)
}
