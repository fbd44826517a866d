//! Bearer tokens with a name and a role.
//!
//! - `admin`: writes flags and segments (and may also post metric events and read);
//! - `ingest`: posts metric events only (edges, the load balancer's log shipper...);
//! - `read`: reads; refused for writes and events.
//!
//! Tokens come from the command line (`--token` is an admin token, `--ingest-token` an ingest
//! token, both kept in memory only) and from the `tokens` table of the data directory's
//! database, managed with `edgeflag token create|list|revoke` ([`TokenStore`]). Only SHA-256
//! digests are stored: tokens are 192 random bits, so a fast unsalted hash is enough (a slow
//! password hash protects guessable secrets, which these are not) and a leaked database gives
//! no usable token.
//!
//! The tokens live in the flag store's database (SQLite or PostgreSQL). A running server sees
//! `edgeflag token` changes without a restart: with SQLite, at most once a second, an
//! authentication checks `PRAGMA data_version` (it changes when another connection, e.g. the
//! CLI, commits) and reloads the table when it moved; with PostgreSQL, every replica reloads
//! on `NOTIFY edgeflag_tokens` and at its periodic check (`store::follow`), never in the
//! request path. So a created or revoked token takes effect within about a second.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock;
use crate::store::{hex, Backend, Location, TokenRow};

/// How often a running server looks for token changes made by other processes.
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// Names the server itself writes as authors; no token may take them.
pub const RESERVED_NAMES: [&str; 3] = [crate::controller::AUTHOR, "initial-import", crate::demo::AUTHOR];

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Ingest,
    Read,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Ingest => "ingest",
            Role::Read => "read",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "ingest" => Some(Role::Ingest),
            "read" => Some(Role::Read),
            _ => None,
        }
    }

    pub fn may_write(self) -> bool {
        self == Role::Admin
    }

    pub fn may_ingest(self) -> bool {
        matches!(self, Role::Admin | Role::Ingest)
    }
}

/// Who is acting: a token's name and role, or an in-process source (the demo generator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
}

impl Principal {
    /// A source inside the server process (no token: it cannot be reached from outside).
    pub fn in_process(name: &str, role: Role) -> Principal {
        Principal { name: name.to_string(), role }
    }
}

/// The result of reading `Authorization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authn {
    /// No `Authorization` header.
    Anonymous,
    /// A header that is not a valid, unrevoked bearer token.
    Invalid,
    Valid(Principal),
}

/// What happened at start-up, so `run` can tell the user.
pub enum TokenSource {
    /// `--token` / `EDGEFLAG_ADMIN_TOKEN`.
    Configured,
    /// An admin token exists in the database.
    Stored,
    /// Freshly generated: the caller prints it once.
    Generated(String),
}

type Entry = ([u8; 32], Principal);

/// The accepted tokens of a running server.
pub struct Tokens {
    configured: Vec<Entry>,
    stored: Option<Stored>,
}

struct Stored {
    backend: Arc<dyn Backend>,
    active: RwLock<Vec<Entry>>,
    /// When the tokens' change marker was last read, and its value.
    checked: Mutex<(Instant, String)>,
}

impl Tokens {
    /// The configured tokens plus those stored in the data directory's SQLite database;
    /// generates and stores an admin token named `admin_name` when there is neither a
    /// configured nor a stored one.
    pub fn resolve(
        dir: &Path,
        admin: Option<&str>,
        admin_name: &str,
        ingest: Option<&str>,
    ) -> anyhow::Result<(Tokens, TokenSource)> {
        Self::resolve_in(Location::Sqlite(dir.to_path_buf()).open(true)?, admin, admin_name, ingest)
    }

    /// [`Tokens::resolve`] over any store backend (the flag store's).
    pub fn resolve_in(
        backend: Arc<dyn Backend>,
        admin: Option<&str>,
        admin_name: &str,
        ingest: Option<&str>,
    ) -> anyhow::Result<(Tokens, TokenSource)> {
        let mut configured = Vec::new();
        if let Some(token) = admin {
            anyhow::ensure!(!token.trim().is_empty(), "the admin token must not be empty");
            configured.push((digest(token.trim()), Principal { name: admin_name.to_string(), role: Role::Admin }));
        }
        if let Some(token) = ingest {
            anyhow::ensure!(!token.trim().is_empty(), "the ingest token must not be empty");
            configured.push((digest(token.trim()), Principal { name: "ingest".to_string(), role: Role::Ingest }));
        }
        let store = TokenStore { backend: backend.clone() };
        let has_admin = |store: &TokenStore| -> anyhow::Result<bool> {
            Ok(store.list()?.iter().any(|t| t.role == Role::Admin && t.revoked_at.is_none()))
        };
        let source = if admin.is_some() {
            TokenSource::Configured
        } else if has_admin(&store)? {
            TokenSource::Stored
        } else {
            validate_name(admin_name)?;
            match store.create(admin_name, Role::Admin) {
                Ok(token) => TokenSource::Generated(token),
                // Replicas starting together on an empty database: another one generated it.
                Err(_) if has_admin(&store)? => TokenSource::Stored,
                Err(e) => return Err(e),
            }
        };
        let marker = backend.tokens_marker().unwrap_or_default();
        let active = load_active(&*backend)?;
        let stored = Stored { backend, active: RwLock::new(active), checked: Mutex::new((Instant::now(), marker)) };
        Ok((Tokens { configured, stored: Some(stored) }, source))
    }

    /// Fixed tokens `(name, role, token)`, nothing stored (tests and embedding).
    pub fn fixed<'a>(entries: impl IntoIterator<Item = (&'a str, Role, &'a str)>) -> Tokens {
        let configured = entries
            .into_iter()
            .map(|(name, role, token)| (digest(token), Principal { name: name.to_string(), role }))
            .collect();
        Tokens { configured, stored: None }
    }

    /// Who `Authorization: Bearer <token>` is.
    pub fn authenticate(&self, headers: &HeaderMap) -> Authn {
        let Some(value) = headers.get(axum::http::header::AUTHORIZATION) else { return Authn::Anonymous };
        let Some(token) = value.to_str().ok().and_then(bearer) else { return Authn::Invalid };
        let d = digest(token);
        // Comparing digests: timing reveals nothing useful about the token itself.
        if let Some((_, p)) = self.configured.iter().find(|(e, _)| *e == d) {
            return Authn::Valid(p.clone());
        }
        let Some(stored) = &self.stored else { return Authn::Invalid };
        if stored.backend.tokens_checked_inline() {
            stored.reload_if_changed();
        }
        let active = match stored.active.read() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        match active.iter().find(|(e, _)| *e == d) {
            Some((_, p)) => Authn::Valid(p.clone()),
            None => Authn::Invalid,
        }
    }

    /// Reloads the stored tokens now if they changed (blocks: the replicas' follower calls it
    /// on a blocking thread when notified, and periodically).
    pub fn reload_if_changed_now(&self) {
        if let Some(stored) = &self.stored {
            stored.reload(true);
        }
    }
}

impl Stored {
    /// Reloads the active tokens when another connection committed since the last check;
    /// checks at most every [`RELOAD_EVERY`], and never waits for another request's check.
    fn reload_if_changed(&self) {
        self.reload(false);
    }

    fn reload(&self, now: bool) {
        let mut checked = if now {
            match self.checked.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            }
        } else {
            let Ok(checked) = self.checked.try_lock() else { return };
            if checked.0.elapsed() < RELOAD_EVERY {
                return;
            }
            checked
        };
        // Err: the backend could not look without waiting (or failed); the next check retries.
        let Ok(marker) = self.backend.tokens_marker() else { return };
        checked.0 = Instant::now();
        if marker == checked.1 {
            return;
        }
        match load_active(&*self.backend) {
            Ok(active) => {
                checked.1 = marker;
                match self.active.write() {
                    Ok(mut guard) => *guard = active,
                    Err(poisoned) => *poisoned.into_inner() = active,
                }
            }
            // Keep the previous list; the next check retries.
            Err(e) => eprintln!("edgeflag: cannot reload tokens: {e}"),
        }
    }
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn load_active(backend: &dyn Backend) -> anyhow::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for row in backend.token_list()?.into_iter().filter(|t| t.revoked_at.is_none()) {
        // A row this version cannot read (an unknown role, a bad digest) grants nothing.
        let (Some(role), Some(d)) = (Role::parse(&row.role), unhex32(&row.sha256)) else {
            eprintln!("edgeflag: tokens table: ignoring unreadable token {:?}", row.name);
            continue;
        };
        out.push((d, Principal { name: row.name, role }));
    }
    Ok(out)
}

/// A token as `edgeflag token list` shows it (never the token itself).
#[derive(Debug, Clone, Serialize)]
pub struct TokenInfo {
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// The `tokens` table of a store (the CLI's `edgeflag token`).
pub struct TokenStore {
    backend: Arc<dyn Backend>,
}

impl TokenStore {
    /// Opens the data directory's SQLite database; `create` makes it when missing.
    pub fn open(dir: &Path, create: bool) -> anyhow::Result<TokenStore> {
        Self::open_at(&Location::Sqlite(dir.to_path_buf()), create)
    }

    /// Opens the store at `location` (SQLite or PostgreSQL).
    pub fn open_at(location: &Location, create: bool) -> anyhow::Result<TokenStore> {
        Ok(TokenStore { backend: location.open(create)? })
    }

    /// Creates a token and returns it (only its digest is stored). A revoked token's name can
    /// be taken again; an active one's cannot.
    pub fn create(&self, name: &str, role: Role) -> anyhow::Result<String> {
        validate_name(name)?;
        let mut raw = [0u8; 24];
        rand::rng().fill_bytes(&mut raw);
        let token = format!("ef_{}", hex(&raw));
        let row = TokenRow {
            name: name.to_string(),
            sha256: hex(&digest(&token)),
            role: role.as_str().to_string(),
            created_at: clock::now_rfc3339(),
            revoked_at: None,
        };
        if !self.backend.token_insert(&row)? {
            anyhow::bail!("a token named {name:?} already exists; revoke it first or choose another name");
        }
        Ok(token)
    }

    /// Every stored token, active and revoked, by name.
    pub fn list(&self) -> anyhow::Result<Vec<TokenInfo>> {
        let mut out = Vec::new();
        for row in self.backend.token_list()? {
            let role = Role::parse(&row.role)
                .ok_or_else(|| anyhow::anyhow!("token {:?} has an unknown role {:?}", row.name, row.role))?;
            out.push(TokenInfo { name: row.name, role, created_at: row.created_at, revoked_at: row.revoked_at });
        }
        Ok(out)
    }

    /// Revokes the active token `name`.
    pub fn revoke(&self, name: &str) -> anyhow::Result<()> {
        let changed = self.backend.token_revoke(name, &clock::now_rfc3339())?;
        anyhow::ensure!(changed, "no active token named {name:?}");
        Ok(())
    }
}

/// Token names are authors in the history: short, printable, and never one of the server's own.
pub fn validate_name(name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b)),
        "token name {name:?}: use 1 to 64 letters, digits, '-', '_', '.' or '@'"
    );
    anyhow::ensure!(!RESERVED_NAMES.contains(&name), "token name {name:?} is reserved for the server's own writes");
    Ok(())
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
            h.insert(axum::http::header::AUTHORIZATION, v);
        }
        h
    }

    #[test]
    fn created_and_revoked_tokens_are_seen_by_a_running_server() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (tokens, source) = Tokens::resolve(dir.path(), None, "admin", Some("ing")).unwrap_or_else(|e| panic!("{e}"));
        let TokenSource::Generated(admin) = source else { panic!("an admin token is generated on first start") };
        assert_eq!(tokens.authenticate(&headers(&admin)), Authn::Valid(Principal { name: "admin".into(), role: Role::Admin }));
        assert_eq!(tokens.authenticate(&headers("ing")), Authn::Valid(Principal { name: "ingest".into(), role: Role::Ingest }));
        assert_eq!(tokens.authenticate(&HeaderMap::new()), Authn::Anonymous);
        assert_eq!(tokens.authenticate(&headers("nope")), Authn::Invalid);

        // Another process (the CLI) creates and revokes tokens.
        let cli = TokenStore::open(dir.path(), false).unwrap_or_else(|e| panic!("{e}"));
        let edge = cli.create("edge-1", Role::Ingest).unwrap_or_else(|e| panic!("{e}"));
        assert!(cli.create("edge-1", Role::Read).is_err(), "active names are unique");
        std::thread::sleep(RELOAD_EVERY + Duration::from_millis(50));
        assert_eq!(tokens.authenticate(&headers(&edge)), Authn::Valid(Principal { name: "edge-1".into(), role: Role::Ingest }));
        cli.revoke("edge-1").unwrap_or_else(|e| panic!("{e}"));
        assert!(cli.revoke("edge-1").is_err(), "already revoked");
        std::thread::sleep(RELOAD_EVERY + Duration::from_millis(50));
        assert_eq!(tokens.authenticate(&headers(&edge)), Authn::Invalid);
        let listed = cli.list().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(listed.iter().map(|t| (t.name.as_str(), t.revoked_at.is_some())).collect::<Vec<_>>(), [("admin", false), ("edge-1", true)]);
        // The name of a revoked token can be used again, with a new token.
        let again = cli.create("edge-1", Role::Read).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(again, edge);
        let db = std::fs::read(crate::db::path(dir.path())).unwrap_or_default();
        assert!(!db.windows(again.len()).any(|w| w == again.as_bytes()), "plain token stored");
    }

    #[test]
    fn names_are_checked() {
        for bad in ["", "has space", "canary-controller", "initial-import", "demo", &"x".repeat(65), "tab\t"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        for good in ["ci", "alice@example.com", "edge_eu-1.prod"] {
            assert!(validate_name(good).is_ok(), "{good:?}");
        }
    }
}
