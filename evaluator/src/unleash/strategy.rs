//! Unleash activation strategies. Each strategy is its constraints (plus the constraints of
//! its segments) as native clauses, AND one activation test; a feature's strategies are OR'd.
//! List tests (`userWithId`, `remoteAddress`) are native `in`/`ip_in_cidr` clauses; the
//! percentage tests hash with [`crate::hashing`] under Unleash's normalisation.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use crate::hashing::SaltedHash;
use crate::matching::compile_clause;
use crate::model::{Clause, Operator};

use super::constraint::{translate, Check};
use super::context::UnleashContext;
use super::payload::{value_text, StrategyDef};
use super::Variants;

/// Where a percentage strategy's unit comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Stickiness {
    /// `userId`, then `sessionId`, then a random number (flexibleRollout's "default").
    Default,
    Random,
    /// A context field (`userId`, `sessionId` or any property).
    Field(String),
}

impl Stickiness {
    fn parse(name: &str) -> Self {
        match name {
            "" | "default" => Stickiness::Default,
            "random" => Stickiness::Random,
            other => Stickiness::Field(other.to_string()),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Activation {
    Always,
    Never,
    /// The unit is in when `murmur3("groupId:unit") % 100 + 1 <= percentage`.
    Percentage {
        stickiness: Stickiness,
        /// murmur3 already past `groupId:` (seed 0).
        group: SaltedHash,
        percentage: f64,
    },
    /// `percentage >= random(1..=100)`.
    Random {
        percentage: f64,
    },
    /// Any of the checks (native clauses).
    AnyOf(Vec<Check>),
    /// The context's `userId`, as given (empty included), is one of these.
    UserIds(Vec<String>),
    /// The field is there (a percentage of 100 or more on that stickiness: every unit is in).
    HasField(String),
}

/// A prepared strategy.
#[derive(Debug, Clone)]
pub struct Strategy {
    pub checks: Vec<Check>,
    pub activation: Activation,
    /// Hashed under `groupId`, else the feature name; with the first variant's stickiness,
    /// else the strategy's.
    pub variants: Variants,
}

impl Strategy {
    pub fn compile(
        def: &StrategyDef,
        feature: &str,
        segments: &HashMap<u64, Vec<Check>>,
    ) -> Strategy {
        let mut checks: Vec<Check> = def.constraints.iter().map(translate).collect();
        for id in &def.segments {
            match segments.get(id) {
                Some(segment) => checks.extend(segment.iter().cloned()),
                // A strategy pointing at an unknown segment never matches (as in the SDKs).
                None => checks.push(Check::Constant(false)),
            }
        }
        let param = |name: &str| def.parameters.get(name).and_then(value_text);
        let percent = |name: &str| {
            param(name)
                .and_then(|p| edgeflag_readers::float_reader::parse_f64(p.trim()))
                .unwrap_or(f64::NAN)
        };
        let activation = match def.name.as_str() {
            "default" => Activation::Always,
            // Every entry counts, an empty one too: `" , 7"` lists `""`, which `userId: ""` is
            // (as in the SDKs).
            "userWithId" => match param("userIds") {
                Some(ids) => Activation::UserIds(ids.split(',').map(|id| id.trim().to_owned()).collect()),
                None => Activation::Never,
            },
            "gradualRolloutUserId" => Activation::Percentage {
                stickiness: Stickiness::Field("userId".into()),
                group: SaltedHash::new(&param("groupId").unwrap_or_default(), 0),
                percentage: percent("percentage"),
            },
            "gradualRolloutSessionId" => Activation::Percentage {
                stickiness: Stickiness::Field("sessionId".into()),
                group: SaltedHash::new(&param("groupId").unwrap_or_default(), 0),
                percentage: percent("percentage"),
            },
            "gradualRolloutRandom" => Activation::Random {
                percentage: percent("percentage"),
            },
            "flexibleRollout" => Activation::Percentage {
                stickiness: Stickiness::parse(&param("stickiness").unwrap_or_default()),
                group: SaltedHash::new(&param("groupId").unwrap_or_else(|| feature.to_string()), 0),
                percentage: percent("rollout"),
            },
            "remoteAddress" => remote_address(split_list(param("IPs"))),
            "applicationHostname" => {
                let hostname = std::env::var("HOSTNAME")
                    .unwrap_or_else(|_| "undefined".into())
                    .to_lowercase();
                let names = split_list(param("hostNames").map(|h| h.to_lowercase()));
                if names.contains(&hostname) {
                    Activation::Always
                } else {
                    Activation::Never
                }
            }
            // Custom strategies this engine does not know are off, like in the SDKs.
            _ => Activation::Never,
        };
        // Every unit is in a rollout of 100 % (or more): no hash needed, only a unit (which
        // `default` and `random` stickiness always have). Makes the usual "100 % with
        // variants" toggle unconditional.
        let activation = match activation {
            Activation::Percentage { stickiness, percentage, .. } if percentage >= 100.0 => match stickiness {
                Stickiness::Default | Stickiness::Random => Activation::Always,
                Stickiness::Field(name) => Activation::HasField(name),
            },
            other => other,
        };
        let group_id = param("groupId").unwrap_or_else(|| feature.to_string());
        let variant_stickiness = def
            .variants
            .first()
            .and_then(|v| v.stickiness.clone())
            .or_else(|| param("stickiness"));
        Strategy {
            checks,
            activation,
            variants: Variants::new(variant_stickiness, &group_id, def.variants.clone()),
        }
    }

    /// Activates whatever the context: no constraints, and an activation that always holds.
    pub fn is_unconditional(&self) -> bool {
        self.checks.is_empty() && matches!(self.activation, Activation::Always)
    }

    /// Takes slots in set `set` for the fields its checks read (see `Field::bind`).
    pub(crate) fn bind(&mut self, set: u64, names: &[String]) {
        for check in &mut self.checks {
            check.bind(set, names);
        }
        if let Activation::AnyOf(checks) = &mut self.activation {
            for check in checks {
                check.bind(set, names);
            }
        }
    }

    pub fn is_enabled(&self, context: &UnleashContext) -> bool {
        self.checks.iter().all(|check| check.matches(context)) && self.activation.holds(context)
    }
}

impl Activation {
    fn holds(&self, context: &UnleashContext) -> bool {
        match self {
            Activation::Always => true,
            Activation::Never => false,
            Activation::Percentage {
                stickiness,
                group,
                percentage,
            } => {
                // Borrowed from the context when it is a string: no allocation per evaluation.
                let unit: Cow<'_, str> = match stickiness {
                    Stickiness::Default => context
                        .field("userId")
                        .or_else(|| context.field("sessionId"))
                        .unwrap_or_else(|| Cow::Owned(random_unit(10_000))),
                    Stickiness::Random => Cow::Owned(random_unit(10_000)),
                    Stickiness::Field(name) => match context.field(name) {
                        Some(unit) => unit,
                        None => return false,
                    },
                };
                *percentage > 0.0 && normalized_hash(group, &unit, 100) as f64 <= *percentage
            }
            Activation::Random { percentage } => *percentage >= (random_u64() % 100 + 1) as f64,
            Activation::AnyOf(checks) => checks.iter().any(|check| check.matches(context)),
            Activation::UserIds(ids) => context.user_id().is_some_and(|user| ids.iter().any(|id| id == user)),
            Activation::HasField(name) => context.field(name).is_some(),
        }
    }
}

/// Unleash's normalised hash: `murmur3("groupId:unit", seed) % normalizer + 1`, `group`
/// holding the salt and seed.
pub fn normalized_hash(group: &SaltedHash, unit: &str, normalizer: u32) -> u32 {
    group.hash(unit) % normalizer.max(1) + 1
}

/// `"a, b ,c"` → `["a", "b", "c"]` (the SDKs split on commas with surrounding spaces).
fn split_list(text: Option<String>) -> Vec<String> {
    text.map(|t| {
        t.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

fn native_clause(attribute: &str, operator: Operator, values: Vec<String>) -> Option<Check> {
    if values.is_empty() {
        return None;
    }
    let clause = Clause {
        attribute: attribute.to_string(),
        operator,
        values: values.into_iter().map(Value::String).collect(),
        negate: false,
        case_insensitive: false,
    };
    let mut problems = Vec::new();
    compile_clause(&clause, &|_| None, &mut problems)
        .filter(|_| problems.is_empty())
        .map(Check::clause)
}

/// The remote address equals an entry, or is inside one of its IPv4 ranges (the Node SDK only
/// treats IPv4 entries as ranges; IPv6 entries match exactly). The address is taken as given,
/// surrounding spaces included, as in the SDKs.
fn remote_address(ranges: Vec<String>) -> Activation {
    let cidrs: Vec<String> = ranges
        .iter()
        .filter(|r| !r.contains(':') && r.parse::<ipnet::Ipv4Net>().is_ok())
        .cloned()
        .collect();
    let mut checks: Vec<Check> = native_clause("remoteAddress", Operator::In, ranges)
        .into_iter()
        .collect();
    let nets = super::constraint::nets(&cidrs);
    if !nets.is_empty() {
        checks.push(Check::Cidr { field: super::context::Field::new("remoteAddress"), nets, inverted: false });
    }
    if checks.is_empty() {
        Activation::Never
    } else {
        Activation::AnyOf(checks)
    }
}

/// A random unit in `1..=range`, as the SDKs use for random stickiness.
pub fn random_unit(range: u64) -> String {
    (random_u64() % range + 1).to_string()
}

/// SplitMix64 over a process-wide counter: uniform enough for random rollouts, needs no OS
/// entropy (bare wasm32 has none), and is seeded from the clock where there is one.
pub fn random_u64() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
    if STATE.load(Ordering::Relaxed) == 0 {
        let seed = super::context::now_ms().unwrap_or(1) as u64 | 1;
        let _ = STATE.compare_exchange(0, seed, Ordering::Relaxed, Ordering::Relaxed);
    }
    let mut z = STATE
        .fetch_add(GAMMA, Ordering::Relaxed)
        .wrapping_add(GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
