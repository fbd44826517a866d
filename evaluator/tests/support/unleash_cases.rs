//! Seeded Unleash toggle and context pairs for the differential tests: against yggdrasil
//! (tests/unleash_agrees.rs) and against the Node SDK through the WASM package
//! (tests/js/unleash-differential.test.mjs, which reads them from the `unleash_cases` example).
//!
//! Most cases are what an Unleash server sends and an SDK user passes: every strategy, every
//! operator (with and without `inverted` and `caseInsensitive`), feature and strategy variants
//! with every stickiness kind and overrides, segments, and dependencies (enabled, disabled,
//! on variants), over contexts with standard fields and properties, non-ASCII IDs included.
//! On those the engines must agree exactly. A few cases are built on purpose in the places
//! where the reference engines disagree with each other: each such case carries a tag
//! naming the deviation (evaluator/UNLEASH.md "Deliberate deviations"), and the tests accept a
//! difference only from the engine that the tag says differs.
//!
//! Nothing random at evaluation time: percentages that would draw a random unit are 0 or 100,
//! and variants that would draw one have a single weighted variant.

#![allow(dead_code)]

use serde_json::{json, Map, Value};

/// The seed and the number of cases both differential tests use.
pub const SEED: u64 = 0x0015_ed9e_f1a6;
pub const CASES: usize = 12_000;

/// One case: a payload, the feature to ask about, a context, and the deviations it exercises.
#[derive(Debug, Clone)]
pub struct Case {
    pub payload: Value,
    pub feature: String,
    pub context: Value,
    pub tags: Vec<&'static str>,
}

/// The deviations the generator builds on purpose (UNLEASH.md lists each with its reason).
pub mod tag {
    /// yggdrasil compiles a toggle to one rule and turns the whole toggle off when one
    /// constraint, parameter or segment reference does not parse; the Node SDK (and edgeflag)
    /// fail only that constraint or strategy.
    pub const YGG_UNPARSABLE_TOGGLE_OFF: &str = "yggdrasil: a toggle with an unparsable constraint is off";
    /// The same in a parent feature or a segment, which changes the asked feature's answer
    /// through its dependency or strategy.
    pub const YGG_UNPARSABLE_ELSEWHERE: &str = "yggdrasil: a parent or segment with an unparsable constraint is off";
    /// yggdrasil's default variant stickiness is userId, then sessionId, then random; the Node
    /// SDK (and edgeflag) try remoteAddress before random.
    pub const YGG_VARIANT_STICKINESS_NO_REMOTE_ADDRESS: &str = "yggdrasil: default variant stickiness skips remoteAddress";
    /// yggdrasil matches IPv6 ranges of the remoteAddress strategy; the Node SDK (and edgeflag)
    /// only treat IPv4 entries as ranges.
    pub const YGG_REMOTE_ADDRESS_IPV6_RANGES: &str = "yggdrasil: remoteAddress matches IPv6 ranges";
    /// yggdrasil drops remoteAddress entries that are not IP addresses; the Node SDK (and
    /// edgeflag) compare them as text.
    pub const YGG_REMOTE_ADDRESS_TEXT_ENTRIES: &str = "yggdrasil: remoteAddress ignores entries that are not addresses";
    /// A variant dependency on an enabled parent without variants: yggdrasil counts it as met,
    /// the Node SDK (and edgeflag) do not (the parent's variant is "disabled").
    pub const YGG_VARIANT_DEPENDENCY_WITHOUT_VARIANTS: &str = "yggdrasil: a variant dependency on a parent without variants holds";
    /// yggdrasil does not trim the values of STR_* constraints; the Node SDK (and edgeflag) do.
    pub const YGG_STRING_VALUES_UNTRIMMED: &str = "yggdrasil: STR_* values are not trimmed";
    /// An empty `userId` is a unit for yggdrasil's stickiness (it hashes `""`); the Node SDK
    /// (and edgeflag) fall back to the next field (`userId || sessionId`).
    pub const YGG_EMPTY_USER_ID_IS_A_UNIT: &str = "yggdrasil: an empty userId is a stickiness unit";
    /// The Node SDK's murmurhash3js hashes the low byte of each UTF-16 unit, so non-ASCII
    /// IDs, group IDs or feature names bucket differently; yggdrasil (and edgeflag) hash UTF-8.
    pub const NODE_NON_ASCII_HASH: &str = "node: non-ASCII text hashes differently";
    /// The Node SDK trims IN/NOT_IN values and drops empty ones; yggdrasil (and edgeflag)
    /// compare them as given.
    pub const NODE_LIST_VALUES_CLEANED: &str = "node: IN/NOT_IN values are trimmed";
    /// The Node SDK hashes strategy variants of a strategy without `groupId` under
    /// "undefined"; yggdrasil (and edgeflag) use the feature name.
    pub const NODE_STRATEGY_VARIANTS_WITHOUT_GROUP_ID: &str = "node: strategy variants without groupId hash under \"undefined\"";

    /// Deviations where yggdrasil's answer may differ from edgeflag's.
    pub const FROM_YGGDRASIL: [&str; 8] = [
        YGG_UNPARSABLE_TOGGLE_OFF,
        YGG_UNPARSABLE_ELSEWHERE,
        YGG_EMPTY_USER_ID_IS_A_UNIT,
        YGG_VARIANT_STICKINESS_NO_REMOTE_ADDRESS,
        YGG_REMOTE_ADDRESS_IPV6_RANGES,
        YGG_REMOTE_ADDRESS_TEXT_ENTRIES,
        YGG_VARIANT_DEPENDENCY_WITHOUT_VARIANTS,
        YGG_STRING_VALUES_UNTRIMMED,
    ];
    /// Deviations where the Node SDK's answer may differ from edgeflag's.
    pub const FROM_NODE: [&str; 3] = [NODE_NON_ASCII_HASH, NODE_LIST_VALUES_CLEANED, NODE_STRATEGY_VARIANTS_WITHOUT_GROUP_ID];
}

/// SplitMix64: a small seeded generator, the same cases on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// Pools: values the contexts carry and the constraints test, so that both outcomes happen.
const USER_IDS: [&str; 8] = ["7", "42", "user-1", "user-2", "alice", "b0b", "ü-9", "ユーザー3"];
const SESSION_IDS: [&str; 4] = ["s1", "s-2", "session-42", "sé-4"];
const ADDRESSES: [&str; 8] = ["10.1.2.3", "192.168.1.1", "192.168.2.7", "127.0.0.1", "2001:db8::1", " 10.1.2.3", "10.1.2.3 ", "localhost"];
const ENVIRONMENTS: [&str; 3] = ["production", "development", "staging"];
const APP_NAMES: [&str; 2] = ["web", "mobile"];
const TIMES: [&str; 4] = ["2026-01-31T12:00:00Z", "2025-06-01T00:00:00.000Z", "2027-03-04T05:06:07.890Z", "2026-01-31T12:00:00+01:00"];
const DATES: [&str; 4] = ["2026-01-31T12:00:00.000Z", "2025-01-01T00:00:00Z", "2026-06-01T00:00:00+02:00", "2027-01-01T00:00:00.000Z"];

/// Properties: name and the values a context may carry.
const PROPERTIES: [(&str, &[&str]); 6] = [
    ("plan", &["pro", "Pro", "PRO", "free", "enterprise"]),
    ("country", &["DE", "de", "NO", "JP", "Ísland"]),
    ("email", &["ann@example.com", "Bob@Example.COM", "carol@edgeflag.dev"]),
    ("version", &["1.2.3", "1.2.3+build.5", "1.2.4+build.1", "2.0.0-beta.1", "2.0.0", "0.9.0", "1.2", "v1.2.3", "01.2.3"]),
    ("score", &["42", "-3.5", "1e3", "0.5", "100", "Infinity", "-Infinity", "NaN", "abc", "1.0"]),
    ("tenant", &["t1", "t-2", "t3", "テナント"]),
];

fn property_values(name: &str) -> &'static [&'static str] {
    PROPERTIES.iter().find(|(n, _)| *n == name).map_or(&[], |(_, v)| v)
}

const OPERATORS: [&str; 19] = [
    "IN", "NOT_IN", "STR_CONTAINS", "STR_STARTS_WITH", "STR_ENDS_WITH", "NUM_EQ", "NUM_LT", "NUM_LTE", "NUM_GT", "NUM_GTE",
    "DATE_AFTER", "DATE_BEFORE", "SEMVER_EQ", "SEMVER_LT", "SEMVER_GT", "SEMVER_LTE", "SEMVER_GTE", "REGEX", "IN_CIDR",
];

pub const STRATEGIES: [&str; 9] = [
    "default", "userWithId", "gradualRolloutUserId", "gradualRolloutSessionId", "gradualRolloutRandom", "flexibleRollout",
    "remoteAddress", "applicationHostname", "myCustomStrategy",
];

/// Stickiness kinds (flexibleRollout's parameter and variants' field).
pub const STICKINESS: [&str; 6] = ["default", "userId", "sessionId", "random", "plan", "tenant"];

struct Builder<'r> {
    rng: &'r mut Rng,
    tags: Vec<&'static str>,
    /// Only one deliberate deviation per case, so each answer difference has one cause.
    quirk_allowed: bool,
    /// Building the feature the case asks about (not a segment or a parent).
    in_asked_feature: bool,
}

impl Builder<'_> {
    fn quirk(&mut self, percent: u64, tag: &'static str) -> bool {
        if self.quirk_allowed && self.rng.chance(percent) {
            self.quirk_allowed = false;
            let elsewhere = tag == tag::YGG_UNPARSABLE_TOGGLE_OFF && !self.in_asked_feature;
            self.tags.push(if elsewhere { tag::YGG_UNPARSABLE_ELSEWHERE } else { tag });
            true
        } else {
            false
        }
    }

    /// A context field a constraint reads: a standard field or a property.
    fn context_name(&mut self, for_operator: &str) -> String {
        let standard: &[&str] = match for_operator {
            "IN_CIDR" => &["remoteAddress"],
            "NUM_EQ" | "NUM_LT" | "NUM_LTE" | "NUM_GT" | "NUM_GTE" => &["score"],
            "SEMVER_EQ" | "SEMVER_LT" | "SEMVER_GT" | "SEMVER_LTE" | "SEMVER_GTE" => &["version"],
            _ => &["userId", "sessionId", "environment", "appName", "plan", "country", "email", "tenant", "remoteAddress"],
        };
        (*self.rng.pick(standard)).to_owned()
    }

    /// Values a context may carry in `name` (to build matching constraint values).
    fn values_of(name: &str) -> Vec<&'static str> {
        match name {
            "userId" => USER_IDS.to_vec(),
            "sessionId" => SESSION_IDS.to_vec(),
            "remoteAddress" => ADDRESSES.iter().copied().filter(|a| a.trim() == *a).collect(),
            "environment" => ENVIRONMENTS.to_vec(),
            "appName" => APP_NAMES.to_vec(),
            other => property_values(other).to_vec(),
        }
    }

    fn constraint(&mut self) -> Value {
        let operator = *self.rng.pick(&OPERATORS);
        let mut name = self.context_name(operator);
        let mut c = Map::new();
        let inverted = self.rng.chance(25);
        let case_insensitive = self.rng.chance(30);
        match operator {
            "IN" | "NOT_IN" => {
                let pool = Self::values_of(&name);
                let mut values: Vec<String> =
                    (0..1 + self.rng.below(3)).map(|_| (*self.rng.pick(&pool)).to_owned()).collect();
                if self.rng.chance(5) {
                    values.clear(); // IN [] is false, NOT_IN [] true, everywhere
                } else if self.quirk(4, tag::NODE_LIST_VALUES_CLEANED) {
                    values.push(format!(" {}", self.rng.pick(&pool)));
                }
                c.insert("values".into(), json!(values));
            }
            "STR_CONTAINS" | "STR_STARTS_WITH" | "STR_ENDS_WITH" => {
                let pool = Self::values_of(&name);
                let mut values: Vec<String> = (0..1 + self.rng.below(2))
                    .map(|_| {
                        let whole: Vec<char> = self.rng.pick(&pool).chars().collect();
                        let (a, b) = match operator {
                            "STR_STARTS_WITH" => (0, 1 + self.rng.below(whole.len())),
                            "STR_ENDS_WITH" => (self.rng.below(whole.len()), whole.len()),
                            _ => {
                                let a = self.rng.below(whole.len());
                                (a, a + 1 + self.rng.below(whole.len() - a))
                            }
                        };
                        whole[a..b].iter().collect()
                    })
                    .collect();
                if self.quirk(5, tag::YGG_STRING_VALUES_UNTRIMMED) {
                    values[0] = format!(" {} ", values[0]);
                } else if self.quirk(2, tag::YGG_UNPARSABLE_TOGGLE_OFF) {
                    values.clear(); // yggdrasil's grammar needs a non-empty string list
                }
                c.insert("values".into(), json!(values));
            }
            "NUM_EQ" | "NUM_LT" | "NUM_LTE" | "NUM_GT" | "NUM_GTE" => {
                let value = if self.quirk(3, tag::YGG_UNPARSABLE_TOGGLE_OFF) {
                    *self.rng.pick(&[".5", "ten", "Infinity"][..])
                } else {
                    *self.rng.pick(&["42", "-3.5", "0", "100", "1e3", "0.5", "+7", "1e400"][..])
                };
                c.insert("value".into(), json!(value));
            }
            "DATE_AFTER" | "DATE_BEFORE" => {
                name = "currentTime".into();
                let value = if self.quirk(3, tag::YGG_UNPARSABLE_TOGGLE_OFF) {
                    *self.rng.pick(&["2026-01-31", "2026-01-31T12:00:00.5Z", "yesterday"][..])
                } else {
                    *self.rng.pick(&DATES)
                };
                c.insert("value".into(), json!(value));
            }
            "SEMVER_EQ" | "SEMVER_LT" | "SEMVER_GT" | "SEMVER_LTE" | "SEMVER_GTE" => {
                let value = if self.quirk(3, tag::YGG_UNPARSABLE_TOGGLE_OFF) {
                    *self.rng.pick(&["1.2", "01.2.3", "latest"][..])
                } else {
                    *self.rng.pick(&["1.2.3", "1.2.3+build.9", "2.0.0-beta.1", "2.0.0-alpha", "0.9.0", "1.10.0"][..])
                };
                c.insert("value".into(), json!(value));
            }
            "REGEX" => {
                let value = *self.rng.pick(&["^user-\\d+$", "pro", "^[a-f0-9]+$", "^(DE|NO)$", "example\\.com$", "(", "^.*$"][..]);
                c.insert("value".into(), json!(value));
            }
            "IN_CIDR" => {
                let pool = ["10.0.0.0/8", "192.168.1.0/24", "2001:db8::/32", "127.0.0.1", "192.168.2.7/32", "not-an-address", "10.0.0.0/33"];
                let values: Vec<&str> = (0..1 + self.rng.below(3)).map(|_| *self.rng.pick(&pool)).collect();
                c.insert("values".into(), json!(values));
            }
            _ => unreachable!(),
        }
        if self.quirk(1, tag::YGG_UNPARSABLE_TOGGLE_OFF) {
            c.insert("operator".into(), json!("STR_MATCHES_SOUNDEX")); // from a newer server
        } else {
            c.insert("operator".into(), json!(operator));
        }
        c.insert("contextName".into(), json!(name));
        if inverted {
            c.insert("inverted".into(), json!(true));
        }
        if case_insensitive {
            c.insert("caseInsensitive".into(), json!(true));
        }
        Value::Object(c)
    }

    fn percent(&mut self, deterministic: bool) -> String {
        if deterministic {
            (*self.rng.pick(&["0", "100"])).to_owned()
        } else {
            (*self.rng.pick(&["0", "1", "10", "25", "33", "50", "75", "99", "100"])).to_owned()
        }
    }

    fn variants(&mut self, names: &[&str], stickiness: Option<&str>, deterministic: bool) -> Vec<Value> {
        let count = 1 + self.rng.below(names.len());
        let weighted = if deterministic { Some(self.rng.below(count)) } else { None };
        (0..count)
            .map(|i| {
                let weight = match weighted {
                    Some(only) if only == i => 1000,
                    Some(_) => 0,
                    None => *self.rng.pick(&[0, 1, 100, 333, 500, 1000]) + 1,
                };
                let mut v = json!({
                    "name": names[i],
                    "weight": weight,
                    "payload": {"type": "string", "value": format!("{}-payload", names[i])},
                });
                if let Some(s) = stickiness.filter(|_| i == 0) {
                    v["stickiness"] = json!(s);
                }
                v
            })
            .collect()
    }

    fn strategy(&mut self, feature: &str, segments: &[u64], units: &Units) -> Value {
        let name = *self.rng.pick(&STRATEGIES);
        let mut parameters = Map::new();
        let mut variants = None;
        match name {
            "userWithId" => {
                let mut ids: Vec<&str> = (0..1 + self.rng.below(3)).map(|_| *self.rng.pick(&USER_IDS)).collect();
                if self.rng.chance(10) {
                    ids.insert(0, " "); // an empty entry, which userId "" matches
                }
                parameters.insert("userIds".into(), json!(ids.join(", ")));
            }
            "gradualRolloutUserId" | "gradualRolloutSessionId" => {
                parameters.insert("percentage".into(), json!(self.percent(false)));
                parameters.insert("groupId".into(), json!(format!("{feature}-group")));
            }
            "gradualRolloutRandom" => {
                parameters.insert("percentage".into(), json!(self.percent(true)));
            }
            "flexibleRollout" => {
                let stickiness = *self.rng.pick(&STICKINESS);
                let deterministic = !units.has(stickiness);
                let rollout = if self.quirk(2, tag::YGG_UNPARSABLE_TOGGLE_OFF) {
                    // Not 0 to 100 in whole numbers; 150 is "everyone" without a unit.
                    (*self.rng.pick(if deterministic { &["150"][..] } else { &["33.5", "150"][..] })).to_owned()
                } else {
                    self.percent(deterministic)
                };
                parameters.insert("rollout".into(), json!(rollout));
                parameters.insert("stickiness".into(), json!(stickiness));
                let without_group = self.rng.chance(50) && self.quirk(15, tag::NODE_STRATEGY_VARIANTS_WITHOUT_GROUP_ID);
                if !without_group {
                    parameters.insert("groupId".into(), json!(format!("{feature}-g")));
                }
                if without_group || self.rng.chance(35) {
                    // Strategy variants carry the strategy's stickiness (as the Unleash server
                    // writes them), or none.
                    let own = if self.rng.chance(50) { Some(stickiness) } else { None };
                    variants = Some(self.variants(&["blue", "green", "red"], own, !units.has_variant_unit(stickiness)));
                }
            }
            "remoteAddress" => {
                let mut ips: Vec<&str> = (0..1 + self.rng.below(3))
                    .map(|_| *self.rng.pick(&["10.0.0.0/8", "192.168.1.1", "192.168.2.0/24", "127.0.0.1", "2001:db8::1"]))
                    .collect();
                if self.quirk(15, tag::YGG_REMOTE_ADDRESS_IPV6_RANGES) {
                    ips.push("2001:db8::/32");
                } else if self.quirk(15, tag::YGG_REMOTE_ADDRESS_TEXT_ENTRIES) {
                    ips.push("localhost");
                }
                parameters.insert("IPs".into(), json!(ips.join(", ")));
            }
            "applicationHostname" => {
                parameters.insert("hostNames".into(), json!("web-1, WEB-2"));
            }
            _ => {}
        }
        let constraints: Vec<Value> = (0..self.rng.below(3)).map(|_| self.constraint()).collect();
        let mut strategy = json!({"name": name, "parameters": parameters, "constraints": constraints});
        if !segments.is_empty() && self.rng.chance(30) {
            let mut ids = vec![*self.rng.pick(segments)];
            if self.quirk(3, tag::YGG_UNPARSABLE_TOGGLE_OFF) {
                ids.push(999); // a segment the payload does not have
            }
            strategy["segments"] = json!(ids);
        }
        if let Some(variants) = variants {
            strategy["variants"] = json!(variants);
        }
        strategy
    }

    fn feature(&mut self, name: &str, segments: &[u64], units: &Units, may_have_variants: bool) -> Value {
        let strategies: Vec<Value> = (0..self.rng.below(4)).map(|_| self.strategy(name, segments, units)).collect();
        let mut feature = json!({
            "name": name,
            "enabled": self.rng.chance(90),
            "strategies": strategies,
            "type": "release",
            "project": "default",
        });
        if may_have_variants && self.rng.chance(50) {
            let stickiness = if self.rng.chance(50) { Some(*self.rng.pick(&STICKINESS)) } else { None };
            let deterministic = !units.has_variant_unit(stickiness.unwrap_or("default"));
            let mut variants = self.variants(&["a", "b", "c"], stickiness, deterministic);
            if self.rng.chance(20) {
                // An override: the variant for these users, whatever the hash says.
                let field = *self.rng.pick(&["userId", "plan", "tenant"]);
                let values: Vec<&str> = Self::values_of(field).into_iter().take(2).collect();
                variants[0]["overrides"] = json!([{"contextName": field, "values": values}]);
            }
            feature["variants"] = json!(variants);
        }
        feature
    }
}

/// Which stickiness units a context has, so that percentages that would draw a random unit
/// are kept at 0 or 100.
struct Units {
    user_id: bool,
    session_id: bool,
    remote_address: bool,
    /// The case lets variants' default stickiness use the remote address (a deviation of
    /// yggdrasil, which draws a random unit there).
    variant_remote_address: bool,
    properties: Vec<&'static str>,
}

impl Units {
    /// Whether variants with `stickiness` find a unit (default: userId, sessionId, then
    /// remoteAddress in the Node SDK and edgeflag).
    fn has_variant_unit(&self, stickiness: &str) -> bool {
        match stickiness {
            "default" => self.user_id || self.session_id || (self.remote_address && self.variant_remote_address),
            other => self.has(other),
        }
    }

    /// Whether `stickiness` finds a unit in the context (else it would be random).
    fn has(&self, stickiness: &str) -> bool {
        match stickiness {
            // flexibleRollout's default is userId then sessionId (then random) everywhere.
            "default" => self.user_id || self.session_id,
            "userId" => self.user_id,
            "sessionId" => self.session_id,
            "random" => false,
            other => self.properties.contains(&other),
        }
    }
}

fn context(rng: &mut Rng, tags: &mut Vec<&'static str>, quirk_allowed: &mut bool) -> (Value, Units) {
    let mut c = Map::new();
    let mut units = Units {
        user_id: false,
        session_id: false,
        remote_address: false,
        variant_remote_address: false,
        properties: Vec::new(),
    };
    if rng.chance(75) {
        if *quirk_allowed && rng.chance(5) {
            // Which a userWithId list with an empty entry matches, everywhere.
            c.insert("userId".into(), json!(""));
            tags.push(tag::YGG_EMPTY_USER_ID_IS_A_UNIT);
            *quirk_allowed = false;
        } else {
            c.insert("userId".into(), json!(rng.pick(&USER_IDS)));
            units.user_id = true;
        }
    }
    if rng.chance(50) {
        c.insert("sessionId".into(), json!(rng.pick(&SESSION_IDS)));
        units.session_id = true;
    }
    if rng.chance(45) {
        c.insert("remoteAddress".into(), json!(rng.pick(&ADDRESSES)));
        units.remote_address = true;
    }
    if rng.chance(30) {
        c.insert("environment".into(), json!(rng.pick(&ENVIRONMENTS)));
    }
    if rng.chance(20) {
        c.insert("appName".into(), json!(rng.pick(&APP_NAMES)));
    }
    c.insert("currentTime".into(), json!(rng.pick(&TIMES)));
    let mut properties = Map::new();
    for (name, values) in PROPERTIES {
        if rng.chance(55) {
            properties.insert(name.into(), json!(rng.pick(values)));
            units.properties.push(name);
        }
    }
    if !properties.is_empty() {
        c.insert("properties".into(), Value::Object(properties));
    }
    // Only the remote address, as a variant unit: yggdrasil draws a random one instead.
    if !units.user_id && !units.session_id && units.remote_address && *quirk_allowed && rng.chance(30) {
        tags.push(tag::YGG_VARIANT_STICKINESS_NO_REMOTE_ADDRESS);
        *quirk_allowed = false;
        units.variant_remote_address = true;
    }
    (Value::Object(c), units)
}

fn has_non_ascii(value: &Value) -> bool {
    let text = value.to_string();
    !text.is_ascii() || text.contains("\\u")
}

/// `count` cases from `seed`.
pub fn cases(seed: u64, count: usize) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    (0..count).map(|i| case(&mut rng, i)).collect()
}

fn case(rng: &mut Rng, index: usize) -> Case {
    let mut tags = Vec::new();
    let mut quirk_allowed = true;
    let (context, units) = context(rng, &mut tags, &mut quirk_allowed);
    let mut b = Builder { rng, tags, quirk_allowed, in_asked_feature: false };
    // Non-ASCII feature names now and then: they are hash inputs (flexibleRollout's group,
    // feature variants).
    let feature = if b.rng.chance(10) { format!("fé-{index}") } else { format!("feature-{index}") };
    let segments: Vec<Value> = (0..b.rng.below(3))
        .map(|i| json!({"id": i + 1, "constraints": (0..1 + b.rng.below(2)).map(|_| b.constraint()).collect::<Vec<_>>()}))
        .collect();
    let segment_ids: Vec<u64> = (1..=segments.len() as u64).collect();
    b.in_asked_feature = true;
    let mut main = b.feature(&feature, &segment_ids, &units, true);
    b.in_asked_feature = false;
    let mut features = Vec::new();
    if b.rng.chance(25) {
        // Dependencies: on a parent with or without variants, enabled or not, on its variants,
        // on a parent that has parents of its own (never met), or on a missing one.
        let parent = format!("parent-{index}");
        let mut parent_feature = b.feature(&parent, &segment_ids, &units, true);
        let mut dependency = json!({"feature": parent});
        match b.rng.below(5) {
            0 => dependency["enabled"] = json!(false),
            1 | 2 => {
                let names: Vec<Value> = parent_feature["variants"]
                    .as_array()
                    .map(|v| v.iter().map(|v| v["name"].clone()).collect())
                    .unwrap_or_default();
                if names.is_empty() {
                    if b.quirk(60, tag::YGG_VARIANT_DEPENDENCY_WITHOUT_VARIANTS) {
                        dependency["variants"] = json!(["a"]);
                    }
                } else {
                    dependency["variants"] = json!([names[b.rng.below(names.len())]]);
                }
            }
            3 => {
                parent_feature["dependencies"] = json!([{"feature": feature.clone()}]);
            }
            _ => {}
        }
        if b.rng.chance(5) {
            dependency["feature"] = json!("no-such-feature");
        }
        main["dependencies"] = json!([dependency]);
        features.push(parent_feature);
    }
    features.push(main);
    if b.rng.chance(50) {
        features.reverse();
    }
    let payload = json!({"version": 2, "features": features, "segments": segments});
    let mut tags = b.tags;
    if has_non_ascii(&payload) || has_non_ascii(&context) {
        tags.push(tag::NODE_NON_ASCII_HASH);
    }
    Case { payload, feature, context, tags }
}
