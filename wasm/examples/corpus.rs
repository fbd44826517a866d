//! Writes the differential corpus: (flag file, flag, context, env) cases with the answers of
//! the *native* engine, plus hashing vectors and invalid files with their problems. The Node
//! test (`tests/js/differential.test.mjs`) replays every case through the WASM module and
//! requires identical answers.
//!
//! Usage: `cargo run --release -p edgeflag-wasm --example corpus -- OUT.json [CASES] [SEED]`
//!
//! Deterministic: the same seed gives the same corpus. Contexts only hold numbers that survive
//! a JS round trip (integers below 2^53, non-integral floats) so both sides see the same input.

use std::error::Error;
use std::fs;

use edgeflag_evaluator::model::{
    Canary, CanaryStage, CanaryStatus, Clause, EnvironmentOverride, Experiment,
    ExperimentVariant, Flag, FlagFile, FlagKind, HealthGate, Operator, Prerequisite, Rollout,
    Rule, Segment, SegmentRule, Target, Variation,
};
use edgeflag_evaluator::{hashing, parse_flag_file, Context, FlagSet};
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const ENVIRONMENTS: [&str; 3] = ["dev", "staging", "prod"];
const COUNTRIES: [&str; 8] = ["FR", "DE", "US", "GB", "JP", "BR", "fr", "Ünïcödé"];
const PLANS: [&str; 4] = ["free", "pro", "team", "enterprise"];
const VERSIONS: [&str; 7] = ["1.0.0", "1.2.3", "1.10.0", "2.0.0-beta.1", "2.0.0", "3.1.4", "0.9.9"];
const DATES: [&str; 5] = [
    "2024-01-01T00:00:00Z",
    "2025-06-15T12:30:00Z",
    "2026-03-01T00:00:00+02:00",
    "2023-12-31T23:59:59Z",
    "2027-01-01T00:00:00Z",
];
const IPS: [&str; 6] = ["10.1.2.3", "192.168.0.7", "172.16.5.4", "8.8.8.8", "2001:db8::1", "::1"];
const CIDRS: [&str; 4] = ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32", "8.8.8.0/24"];
const TAGS: [&str; 5] = ["beta", "staff", "vip", "early", "ß-tester"];
const SEGMENTS: [&str; 3] = ["internal", "europe", "power-users"];

fn is_string_operator(op: Operator) -> bool {
    matches!(
        op,
        Operator::In | Operator::NotIn | Operator::Eq | Operator::Contains | Operator::StartsWith | Operator::EndsWith | Operator::Regex
    )
}

struct Gen {
    rng: SmallRng,
}

impl Gen {
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        // Every caller passes a non-empty constant slice.
        items.choose(&mut self.rng).unwrap_or(&items[0])
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn user(&mut self) -> String {
        let n: u32 = self.rng.random_range(0..400);
        match self.rng.random_range(0..10) {
            0 => format!("üser-{n}-✓"),
            1 => format!("{n}"),
            _ => format!("user-{n}"),
        }
    }

    fn users(&mut self, max: usize) -> Vec<String> {
        let n = self.rng.random_range(0..=max);
        let mut out: Vec<String> = Vec::new();
        for _ in 0..n {
            let u = self.user();
            if !out.contains(&u) {
                out.push(u);
            }
        }
        out
    }

    fn variations(&mut self, kind: FlagKind) -> Vec<Variation> {
        let values: Vec<(&str, Value)> = match kind {
            FlagKind::Boolean => vec![("on", json!(true)), ("off", json!(false))],
            FlagKind::String => vec![
                ("control", json!("control")),
                ("blue", json!("blue-πß")),
                ("green", json!("green")),
            ],
            FlagKind::Number => {
                vec![("low", json!(1)), ("mid", json!(2.5)), ("high", json!(-1e6)), ("big", json!(9007199254740991i64))]
            }
            FlagKind::Json => vec![
                ("a", json!({"color": "red", "limits": [1, 2, 3]})),
                ("b", json!({"color": "blue", "nested": {"deep": null}})),
                ("c", json!([true, "x", 1.25])),
            ],
        };
        values
            .into_iter()
            .map(|(name, value)| Variation { name: name.to_owned(), value, description: String::new() })
            .collect()
    }

    fn clause(&mut self) -> Clause {
        let (attribute, operator, values): (&str, Operator, Vec<Value>) =
            match self.rng.random_range(0..13) {
                0 => {
                    let op = *self.pick(&[Operator::In, Operator::NotIn, Operator::Eq]);
                    let n = self.rng.random_range(1..4);
                    let vals = (0..n).map(|_| json!(self.pick(&COUNTRIES))).collect();
                    ("country", op, vals)
                }
                1 => {
                    let op = *self.pick(&[Operator::Contains, Operator::StartsWith, Operator::EndsWith]);
                    ("email", op, vec![json!(self.pick(&["@example.com", "admin", ".org", "Ü"]))])
                }
                2 => ("email", Operator::Regex, vec![json!(self.pick(&["^admin@", "example\\.(com|org)$", "[0-9]+"]))]),
                3 => ("plan", Operator::In, vec![json!(self.pick(&PLANS)), json!(self.pick(&PLANS))]),
                4 => {
                    let op = *self.pick(&[Operator::NumEq, Operator::NumLt, Operator::NumLte, Operator::NumGt, Operator::NumGte]);
                    ("age", op, vec![json!(self.rng.random_range(10..70))])
                }
                5 => {
                    let op = *self.pick(&[
                        Operator::SemverEq,
                        Operator::SemverLt,
                        Operator::SemverLte,
                        Operator::SemverGt,
                        Operator::SemverGte,
                    ]);
                    ("version", op, vec![json!(self.pick(&VERSIONS))])
                }
                6 => {
                    let op = *self.pick(&[Operator::DateBefore, Operator::DateAfter]);
                    ("signup", op, vec![json!(self.pick(&DATES))])
                }
                7 => ("ip", Operator::IpInCidr, vec![json!(self.pick(&CIDRS)), json!(self.pick(&CIDRS))]),
                8 => ("", Operator::InSegment, vec![json!(self.pick(&SEGMENTS))]),
                9 => ("tags", Operator::In, vec![json!(self.pick(&TAGS))]),
                10 => ("targetingKey", Operator::StartsWith, vec![json!(self.pick(&["user-1", "üser", "3"]))]),
                11 => ("score", Operator::NumGte, vec![json!(self.pick(&[0.5, 12.75, -3.25]))]),
                _ => ("beta", Operator::In, vec![json!(true)]),
            };
        Clause {
            attribute: attribute.to_owned(),
            operator,
            values,
            negate: self.chance(0.15),
            case_insensitive: is_string_operator(operator) && self.chance(0.2),
        }
    }

    fn rules(&mut self, variations: &[Variation]) -> Vec<Rule> {
        let n = self.rng.random_range(0..4);
        (0..n)
            .map(|_| {
                let clauses = (0..self.rng.random_range(1..4)).map(|_| self.clause()).collect();
                Rule { description: String::new(), clauses, variation: self.pick(variations).name.clone() }
            })
            .collect()
    }

    fn stickiness(&mut self) -> Option<String> {
        if self.chance(0.2) {
            Some(self.pick(&["companyId", "sessionId"]).to_string())
        } else {
            None
        }
    }

    fn salt(&mut self) -> Option<String> {
        if self.chance(0.2) {
            Some(format!("salt-{}", self.rng.random_range(0..5)))
        } else {
            None
        }
    }

    fn bp(&mut self) -> u32 {
        match self.rng.random_range(0..6) {
            0 => 0,
            1 => 10_000,
            _ => self.rng.random_range(0..=10_000),
        }
    }

    /// A rollout, canary or experiment (or none), as (rollout, canary, experiment).
    fn split(&mut self, variations: &[Variation]) -> (Option<Rollout>, Option<Canary>, Option<Experiment>) {
        match self.rng.random_range(0..4) {
            0 => (None, None, None),
            1 => (
                Some(Rollout {
                    percent_bp: self.bp(),
                    variation: self.pick(variations).name.clone(),
                    stickiness: self.stickiness(),
                    salt: self.salt(),
                }),
                None,
                None,
            ),
            2 => {
                const PLANS_PERCENT: [&[f64]; 3] = [&[1.0, 10.0, 50.0, 100.0], &[0.5, 25.25, 100.0], &[5.0]];
                let percents = *self.pick(&PLANS_PERCENT);
                let stages: Vec<CanaryStage> = percents
                    .iter()
                    .map(|&percent| CanaryStage {
                        percent,
                        min_duration: "10m".to_owned(),
                        gate: HealthGate { max_error_rate: 0.01, max_p99_ms: 250.0, min_samples: 100 },
                    })
                    .collect();
                let current_stage = self.rng.random_range(0..stages.len());
                let status = *self.pick(&[
                    CanaryStatus::Running,
                    CanaryStatus::Running,
                    CanaryStatus::Paused,
                    CanaryStatus::RolledBack,
                    CanaryStatus::Completed,
                ]);
                (
                    None,
                    Some(Canary {
                        baseline: variations[0].name.clone(),
                        canary: variations[1].name.clone(),
                        stages,
                        current_stage,
                        status,
                        stage_started_at: Some("2026-11-23T09:00:00Z".to_owned()),
                        stickiness: self.stickiness(),
                        salt: self.salt(),
                    }),
                    None,
                )
            }
            _ => {
                let first = self.rng.random_range(0..=10_000);
                let variants = if variations.len() >= 3 && self.chance(0.5) {
                    let second = self.rng.random_range(0..=(10_000 - first));
                    vec![
                        ExperimentVariant { variation: variations[0].name.clone(), weight_bp: first },
                        ExperimentVariant { variation: variations[1].name.clone(), weight_bp: second },
                        ExperimentVariant { variation: variations[2].name.clone(), weight_bp: 10_000 - first - second },
                    ]
                } else {
                    vec![
                        ExperimentVariant { variation: variations[0].name.clone(), weight_bp: first },
                        ExperimentVariant { variation: variations[1].name.clone(), weight_bp: 10_000 - first },
                    ]
                };
                let experiment_salt = if self.chance(0.2) { Some("exp-salt".to_owned()) } else { None };
                (
                    None,
                    None,
                    Some(Experiment {
                        variants,
                        traffic_bp: self.bp(),
                        stickiness: self.stickiness(),
                        salt: self.salt(),
                        experiment_salt,
                    }),
                )
            }
        }
    }

    fn flag(&mut self, index: usize, earlier: &[Flag]) -> Flag {
        let kind = *self.pick(&[FlagKind::Boolean, FlagKind::Boolean, FlagKind::String, FlagKind::Number, FlagKind::Json]);
        let variations = self.variations(kind);
        let key = if index % 17 == 5 { format!("flag {index} ünïcode") } else { format!("gen-flag-{index}") };
        let mut prerequisites = Vec::new();
        if !earlier.is_empty() && self.chance(0.2) {
            let parent = self.pick(earlier);
            prerequisites.push(Prerequisite {
                flag: parent.key.clone(),
                variation: self.pick(&parent.variations).name.clone(),
            });
        }
        let deny = self.users(2);
        let mut targets = Vec::new();
        let mut targeted: Vec<String> = Vec::new();
        if self.chance(0.4) {
            for variation in variations.iter().take(2) {
                let keys: Vec<String> = self
                    .users(3)
                    .into_iter()
                    .filter(|k| !deny.contains(k) && !targeted.contains(k))
                    .collect();
                targeted.extend(keys.iter().cloned());
                if !keys.is_empty() {
                    targets.push(Target { variation: variation.name.clone(), keys });
                }
            }
        }
        let rules = self.rules(&variations);
        let (rollout, canary, experiment) = self.split(&variations);
        let mut environments = std::collections::BTreeMap::new();
        for env in ENVIRONMENTS {
            if self.chance(0.25) {
                let (rollout, canary, experiment) =
                    if self.chance(0.5) { self.split(&variations) } else { (None, None, None) };
                environments.insert(
                    env.to_owned(),
                    EnvironmentOverride {
                        enabled: if self.chance(0.5) { Some(self.chance(0.7)) } else { None },
                        default_variation: if self.chance(0.5) {
                            Some(self.pick(&variations).name.clone())
                        } else {
                            None
                        },
                        targets: None,
                        deny: if self.chance(0.3) { Some(vec![self.user()]) } else { None },
                        rules: if self.chance(0.4) { Some(self.rules(&variations)) } else { None },
                        rollout,
                        canary,
                        experiment,
                    },
                );
            }
        }
        Flag {
            key,
            description: String::new(),
            tags: Vec::new(),
            kind,
            off_variation: self.pick(&variations).name.clone(),
            default_variation: self.pick(&variations).name.clone(),
            enabled: self.chance(0.9),
            variations,
            prerequisites,
            targets,
            deny,
            rules,
            rollout,
            canary,
            experiment,
            environments,
        }
    }

    fn segment(&mut self, key: &str) -> Segment {
        let included = self.users(5);
        let excluded = self.users(3).into_iter().filter(|u| !included.contains(u)).collect();
        let rules = (0..self.rng.random_range(0..3))
            .map(|_| {
                // Segments may not reference segments here: keep their clauses attribute-only.
                let mut clauses: Vec<Clause> = Vec::new();
                while clauses.len() < 2 {
                    let clause = self.clause();
                    if clause.operator != Operator::InSegment {
                        clauses.push(clause);
                    }
                }
                SegmentRule { clauses }
            })
            .collect();
        Segment { key: key.to_owned(), description: String::new(), included, excluded, rules }
    }

    fn file(&mut self, flags: usize) -> FlagFile {
        let segments = SEGMENTS.iter().map(|k| self.segment(k)).collect();
        let mut list: Vec<Flag> = Vec::new();
        for i in 0..flags {
            let flag = self.flag(i, &list);
            list.push(flag);
        }
        FlagFile {
            schema: None,
            schema_version: 1,
            environments: ENVIRONMENTS.iter().map(|e| e.to_string()).collect(),
            segments,
            flags: list,
        }
    }

    fn context(&mut self) -> Value {
        let mut map = serde_json::Map::new();
        match self.rng.random_range(0..12) {
            0 => {}
            1 => {
                map.insert("targetingKey".into(), json!(self.rng.random_range(0..400)));
            }
            _ => {
                map.insert("targetingKey".into(), json!(self.user()));
            }
        }
        let mut maybe = |g: &mut Gen, name: &str, value: Value| {
            if g.chance(0.6) {
                map.insert(name.to_owned(), value);
            }
        };
        let v = json!(self.pick(&COUNTRIES));
        maybe(self, "country", v);
        let v = json!(format!("{}@{}", self.pick(&["admin", "bob", "zoë"]), self.pick(&["example.com", "corp.org", "EXAMPLE.COM"])));
        maybe(self, "email", v);
        let v = json!(self.pick(&PLANS));
        maybe(self, "plan", v);
        let v = if self.chance(0.9) { json!(self.rng.random_range(5..90)) } else { json!("thirty") };
        maybe(self, "age", v);
        let v = json!(self.pick(&VERSIONS));
        maybe(self, "version", v);
        let v = json!(self.pick(&DATES));
        maybe(self, "signup", v);
        let v = json!(self.pick(&IPS));
        maybe(self, "ip", v);
        let v = json!([self.pick(&TAGS), self.pick(&TAGS)]);
        maybe(self, "tags", v);
        let v = json!(self.pick(&[0.25, 12.75, -3.5, 100.125]));
        maybe(self, "score", v);
        let v = json!(self.chance(0.5));
        maybe(self, "beta", v);
        let v = json!(format!("company-{}", self.rng.random_range(0..20)));
        maybe(self, "companyId", v);
        let v = json!(null);
        maybe(self, "sessionId", v);
        Value::Object(map)
    }

    fn env(&mut self) -> Option<&'static str> {
        match self.rng.random_range(0..10) {
            0..=3 => None,
            4 => Some("qa"), // undeclared: an error answer
            _ => Some(*self.pick(&ENVIRONMENTS)),
        }
    }
}

/// Known-bad files: each must be refused with the same problems natively and in WASM.
fn invalid_files(valid: &FlagFile) -> Result<Vec<String>, Box<dyn Error>> {
    let mut out = vec![
        "{".to_owned(),
        "[]".to_owned(),
        "{\"schema_version\": 2, \"flags\": []}".to_owned(),
        "{\"schema_version\": 1, \"flags\": [{\"key\": 3}], \"extra\": true}".to_owned(),
    ];
    let base = serde_json::to_value(valid)?;
    let edits: [(&str, Value); 5] = [
        ("/flags/0/variations", json!([])),
        ("/flags/1/default_variation", json!("no-such-variation")),
        ("/flags/2/kind", json!("colour")),
        ("/flags/3/enabled", json!("yes")),
        ("/segments/0/key", json!(7)),
    ];
    for (pointer, value) in edits {
        let mut broken = base.clone();
        if let Some(slot) = broken.pointer_mut(pointer) {
            *slot = value;
            out.push(serde_json::to_string(&broken)?);
        }
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out_path = args.get(1).ok_or("usage: corpus OUT.json [CASES] [SEED]")?;
    let case_count: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(12_000);
    let seed: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(20261123);
    let mut g = Gen { rng: SmallRng::seed_from_u64(seed) };

    let generated = g.file(60);
    let generated_text = serde_json::to_string_pretty(&generated)?;
    let mut files: Vec<(String, String)> = vec![("generated".to_owned(), generated_text)];
    match fs::read_to_string("examples/flags.json") {
        Ok(text) => files.push(("examples/flags.json".to_owned(), text)),
        Err(e) => eprintln!("corpus: examples/flags.json not read ({e}); generated flags only"),
    }
    let mut sets = Vec::new();
    for (name, text) in &files {
        let set = FlagSet::from_json(text).map_err(|e| format!("{name} is invalid: {e}"))?;
        sets.push(set);
    }

    let mut cases = Vec::with_capacity(case_count);
    for i in 0..case_count {
        let file = i % sets.len();
        let set = &sets[file];
        let context = g.context();
        let ctx = Context::from_value(context.clone())?;
        let env = g.env();
        if i % 50 == 0 {
            let all = set.evaluate_all(&ctx, env);
            cases.push(json!({"file": file, "all": true, "context": context, "env": env, "expected": all}));
            continue;
        }
        let keys: Vec<&str> = set.flag_keys().collect();
        let flag = if i % 97 == 0 { "no-such-flag" } else { keys.choose(&mut g.rng).copied().unwrap_or("none") };
        let answer = set.evaluate(flag, &ctx, env);
        cases.push(json!({"file": file, "flag": flag, "context": context, "env": env, "expected": answer}));
    }

    let mut hashes = Vec::new();
    for i in 0..2000u32 {
        let salt = match i % 4 {
            0 => format!("flag-{}", i % 37),
            1 => String::new(),
            2 => format!("sält/{i}/experiment"),
            _ => "new-checkout".to_owned(),
        };
        let unit = match i % 5 {
            0 => format!("user-{i}"),
            1 => format!("{i}"),
            2 => "🚀 unit ✓".repeat((i % 7) as usize),
            3 => "x".repeat((i % 300) as usize),
            _ => format!("{:x}", g.rng.random::<u64>()),
        };
        hashes.push(json!({"salt": salt, "unit": unit, "hash": hashing::hash(&salt, &unit), "bucket": hashing::bucket(&salt, &unit)}));
    }

    let mut invalid = Vec::new();
    for text in invalid_files(&generated)? {
        match parse_flag_file(&text).and_then(|_| FlagSet::from_json(&text).map(|_| ())) {
            Ok(()) => return Err(format!("corpus: a broken file validated: {text:.200}").into()),
            Err(errors) => invalid.push(json!({"text": text, "problems": errors.problems})),
        }
    }

    let corpus = json!({
        "seed": seed,
        "files": files.iter().map(|(name, text)| json!({"name": name, "text": text})).collect::<Vec<_>>(),
        "cases": cases,
        "hashes": hashes,
        "invalid": invalid,
    });
    fs::write(out_path, serde_json::to_string(&corpus)?)?;
    eprintln!(
        "corpus: {} cases over {} files, {} hash vectors, {} invalid files -> {out_path}",
        cases_len(&corpus),
        files.len(),
        2000,
        corpus["invalid"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}

fn cases_len(corpus: &Value) -> usize {
    corpus["cases"].as_array().map_or(0, Vec::len)
}
