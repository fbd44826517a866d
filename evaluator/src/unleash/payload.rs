//! The Unleash client API payload (`GET /api/client/features`) and delta events, as serde
//! types. Lenient like the Unleash SDKs: unknown fields (project, stale, impressionData...)
//! are ignored, `null` lists are empty lists, parameters may be strings or numbers.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Either a full client payload (`{"version", "features", "segments"}`) or a delta stream
/// (`{"events": [...]}`); both describe the same state.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Payload {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub features: Vec<Feature>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub segments: Vec<SegmentDef>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub events: Vec<DeltaEvent>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Feature {
    pub name: String,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub strategies: Vec<StrategyDef>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub variants: Vec<VariantDef>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub dependencies: Vec<Dependency>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StrategyDef {
    pub name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub parameters: BTreeMap<String, Value>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub constraints: Vec<ConstraintDef>,
    /// Segment ids; a missing segment makes the strategy never match (as in the SDKs).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub segments: Vec<u64>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub variants: Vec<VariantDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConstraintDef {
    #[serde(default)]
    pub context_name: String,
    #[serde(default)]
    pub operator: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub values: Vec<Value>,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub inverted: bool,
    #[serde(default)]
    pub case_insensitive: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantDef {
    pub name: String,
    #[serde(default)]
    pub weight: u32,
    #[serde(default)]
    pub stickiness: Option<String>,
    #[serde(default)]
    pub payload: Option<Value>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub overrides: Vec<OverrideDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverrideDef {
    pub context_name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Dependency {
    pub feature: String,
    /// `false`: the parent must be disabled. Absent or `true`: enabled.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// When non-empty, the parent's variant must be one of these.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub variants: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SegmentDef {
    pub id: u64,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub constraints: Vec<ConstraintDef>,
}

/// One delta-API event, applied in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum DeltaEvent {
    Hydration {
        #[serde(default, deserialize_with = "null_as_empty")]
        features: Vec<Feature>,
        #[serde(default, deserialize_with = "null_as_empty")]
        segments: Vec<SegmentDef>,
    },
    FeatureUpdated {
        feature: Feature,
    },
    #[serde(rename_all = "camelCase")]
    FeatureRemoved {
        feature_name: String,
    },
    SegmentUpdated {
        segment: SegmentDef,
    },
    #[serde(rename_all = "camelCase")]
    SegmentRemoved {
        segment_id: u64,
    },
}

impl Payload {
    /// Folds delta events into plain features and segments (later events win).
    pub fn into_state(self) -> (Vec<Feature>, Vec<SegmentDef>) {
        let mut features = self.features;
        let mut segments = self.segments;
        for event in self.events {
            match event {
                DeltaEvent::Hydration {
                    features: f,
                    segments: s,
                } => {
                    features = f;
                    segments = s;
                }
                DeltaEvent::FeatureUpdated { feature } => {
                    features.retain(|f| f.name != feature.name);
                    features.push(feature);
                }
                DeltaEvent::FeatureRemoved { feature_name } => {
                    features.retain(|f| f.name != feature_name)
                }
                DeltaEvent::SegmentUpdated { segment } => {
                    segments.retain(|s| s.id != segment.id);
                    segments.push(segment);
                }
                DeltaEvent::SegmentRemoved { segment_id } => {
                    segments.retain(|s| s.id != segment_id)
                }
            }
        }
        (features, segments)
    }
}

/// Unleash sends `null` for empty lists and maps in places; treat it as empty.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A parameter or constraint value as the SDKs see it: JS `String(value)`.
pub fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
