//! Bearer tokens for writes. Tokens are compared by SHA-256 digest, and only digests are
//! stored, so the generated admin token is printed exactly once.

use axum::http::HeaderMap;
use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::store::{hex, FlagStore};
use crate::clock;

/// The accepted tokens: (digest, name). The name is the author of writes made with it.
#[derive(Clone)]
pub struct Tokens {
    entries: Vec<([u8; 32], String)>,
}

/// What happened at start-up, so `run` can tell the user.
pub enum TokenSource {
    Configured,
    Stored,
    /// Freshly generated: the caller prints it once.
    Generated(String),
}

impl Tokens {
    /// The configured token, or the stored one, or a new one (stored as a digest).
    pub fn resolve(
        store: &FlagStore,
        configured: Option<&str>,
        name: &str,
    ) -> anyhow::Result<(Tokens, TokenSource)> {
        if let Some(token) = configured {
            anyhow::ensure!(!token.trim().is_empty(), "the admin token must not be empty");
            let tokens = Tokens { entries: vec![(digest(token), name.to_string())] };
            return Ok((tokens, TokenSource::Configured));
        }
        store.with_conn(|conn| {
            let stored: Option<(String, String)> = conn
                .query_row("SELECT name, sha256 FROM tokens ORDER BY name LIMIT 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            if let Some((stored_name, digest_hex)) = stored {
                let bytes = unhex32(&digest_hex)
                    .ok_or_else(|| anyhow::anyhow!("tokens table: bad digest for {stored_name}"))?;
                return Ok((Tokens { entries: vec![(bytes, stored_name)] }, TokenSource::Stored));
            }
            let mut raw = [0u8; 24];
            rand::rng().fill_bytes(&mut raw);
            let token = format!("ef_{}", hex(&raw));
            conn.execute(
                "INSERT INTO tokens (name, sha256, created_at) VALUES (?1, ?2, ?3)",
                params![name, hex(&digest(&token)), clock::now_rfc3339()],
            )?;
            let tokens = Tokens { entries: vec![(digest(&token), name.to_string())] };
            Ok((tokens, TokenSource::Generated(token)))
        })
    }

    /// A token list for tests and embedding.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Tokens {
        Tokens { entries: pairs.into_iter().map(|(n, t)| (digest(t), n.to_string())).collect() }
    }

    /// The name of the token in `Authorization: Bearer <token>`, if it is valid.
    pub fn authenticate(&self, headers: &HeaderMap) -> Option<&str> {
        let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let d = digest(token.trim());
        // Comparing digests: timing reveals nothing useful about the token itself.
        self.entries.iter().find(|(e, _)| *e == d).map(|(_, name)| name.as_str())
    }
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
