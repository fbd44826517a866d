//! The flags list: what each flag is doing (status) and which flags match a search.

use edgeflag_readers::lowercase::to_lowercase;
use edgeflag_evaluator::model::{CanaryStatus, Flag, FlagFile, FlagKind};

/// What a flag is doing right now, as the list shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum FlagStatus {
    /// The kill switch is off.
    Disabled,
    /// A rollout between 0 % and 100 % (exclusive): `percent` of units get the variation.
    RollingOut { percent: f64 },
    /// A canary at stage `stage` (0-based) of `stages`, serving `percent` %.
    Canary { stage: usize, stages: usize, percent: f64, status: CanaryStatus },
    /// An experiment with `variants` arms.
    Experiment { variants: usize },
    /// Enabled with no partial split.
    Enabled,
}

impl FlagStatus {
    /// Short text for the list's status column.
    pub fn label(&self) -> String {
        match self {
            FlagStatus::Disabled => "disabled".into(),
            FlagStatus::RollingOut { percent } => format!("rolling out {percent:.2} %"),
            FlagStatus::Canary { stage, stages, percent, status } => format!(
                "canary stage {}/{} ({percent:.2} %, {})",
                stage + 1,
                stages,
                status.as_str()
            ),
            FlagStatus::Experiment { variants } => format!("experiment ({variants} variants)"),
            FlagStatus::Enabled => "enabled".into(),
        }
    }

    pub fn matches(&self, filter: StatusFilter) -> bool {
        match filter {
            StatusFilter::Any => true,
            StatusFilter::Enabled => !matches!(self, FlagStatus::Disabled),
            StatusFilter::Disabled => matches!(self, FlagStatus::Disabled),
            StatusFilter::RollingOut => matches!(self, FlagStatus::RollingOut { .. }),
            StatusFilter::Canary => matches!(self, FlagStatus::Canary { .. }),
            StatusFilter::Experiment => matches!(self, FlagStatus::Experiment { .. }),
        }
    }
}

/// The base (environment-independent) status of a flag.
pub fn flag_status(flag: &Flag) -> FlagStatus {
    if !flag.enabled {
        return FlagStatus::Disabled;
    }
    if let Some(canary) = &flag.canary {
        let percent = canary.stages.get(canary.current_stage).map_or(0.0, |s| s.percent);
        return FlagStatus::Canary {
            stage: canary.current_stage,
            stages: canary.stages.len(),
            percent,
            status: canary.status,
        };
    }
    if let Some(experiment) = &flag.experiment {
        return FlagStatus::Experiment { variants: experiment.variants.len() };
    }
    match &flag.rollout {
        Some(r) if r.percent_bp > 0 && r.percent_bp < 10_000 => {
            FlagStatus::RollingOut { percent: f64::from(r.percent_bp) / 100.0 }
        }
        _ => FlagStatus::Enabled,
    }
}

/// The status filter choices, with their `<select>` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Any,
    Enabled,
    Disabled,
    RollingOut,
    Canary,
    Experiment,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 6] = [
        StatusFilter::Any,
        StatusFilter::Enabled,
        StatusFilter::Disabled,
        StatusFilter::RollingOut,
        StatusFilter::Canary,
        StatusFilter::Experiment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Any => "any",
            StatusFilter::Enabled => "enabled",
            StatusFilter::Disabled => "disabled",
            StatusFilter::RollingOut => "rolling_out",
            StatusFilter::Canary => "canary",
            StatusFilter::Experiment => "experiment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Any => "any status",
            StatusFilter::Enabled => "enabled",
            StatusFilter::Disabled => "disabled",
            StatusFilter::RollingOut => "rolling out",
            StatusFilter::Canary => "canary",
            StatusFilter::Experiment => "experiment",
        }
    }

    pub fn parse(text: &str) -> StatusFilter {
        StatusFilter::ALL.into_iter().find(|s| s.as_str() == text).unwrap_or_default()
    }
}

/// A search of the flags list. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Case-insensitive substring of the key or description.
    pub text: String,
    /// Exact tag.
    pub tag: String,
    pub kind: Option<FlagKind>,
    pub status: StatusFilter,
}

impl Filter {
    pub fn matches(&self, flag: &Flag, needle_lower: &str) -> bool {
        (needle_lower.is_empty()
            || contains_ignore_case(&flag.key, needle_lower)
            || contains_ignore_case(&flag.description, needle_lower))
            && (self.tag.is_empty() || flag.tags.contains(&self.tag))
            && self.kind.is_none_or(|k| flag.kind == k)
            && flag_status(flag).matches(self.status)
    }
}

/// Indexes (into `file.flags`) of the flags that match, in file order.
pub fn filter_flags(file: &FlagFile, filter: &Filter) -> Vec<usize> {
    let needle = to_lowercase(filter.text.trim());
    file.flags
        .iter()
        .enumerate()
        .filter(|(_, flag)| filter.matches(flag, &needle))
        .map(|(i, _)| i)
        .collect()
}

fn contains_ignore_case(haystack: &str, needle_lower: &str) -> bool {
    if haystack.is_ascii() && needle_lower.is_ascii() {
        // The common case without allocating: a window compare.
        let (h, n) = (haystack.as_bytes(), needle_lower.as_bytes());
        return n.len() <= h.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n));
    }
    to_lowercase(haystack).contains(needle_lower)
}

/// Every tag used by some flag, sorted and unique.
pub fn all_tags(file: &FlagFile) -> Vec<String> {
    let mut tags: Vec<String> = file.flags.iter().flat_map(|f| f.tags.iter().cloned()).collect();
    tags.sort();
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::sample_file;

    fn keys(file: &FlagFile, filter: &Filter) -> Vec<String> {
        filter_flags(file, filter).into_iter().map(|i| file.flags[i].key.clone()).collect()
    }

    #[test]
    fn statuses_describe_what_a_flag_does() {
        let f = sample_file();
        let by_key = |k: &str| flag_status(f.flags.iter().find(|x| x.key == k).unwrap());
        assert_eq!(by_key("new-checkout"), FlagStatus::RollingOut { percent: 12.5 });
        assert_eq!(by_key("old-banner"), FlagStatus::Disabled);
        assert!(matches!(by_key("search-v2"), FlagStatus::Canary { stage: 1, stages: 3, .. }));
        assert_eq!(by_key("button-color"), FlagStatus::Experiment { variants: 2 });
        assert_eq!(by_key("full-on"), FlagStatus::Enabled);
        assert_eq!(by_key("search-v2").label(), "canary stage 2/3 (10.00 %, running)");
    }

    #[test]
    fn text_matches_key_or_description_case_insensitively() {
        let f = sample_file();
        let filter = Filter { text: "CHECK".into(), ..Filter::default() };
        assert_eq!(keys(&f, &filter), ["new-checkout"]);
        let filter = Filter { text: "Colour of the".into(), ..Filter::default() };
        assert_eq!(keys(&f, &filter), ["button-color"]);
        let filter = Filter { text: "  ".into(), ..Filter::default() };
        assert_eq!(keys(&f, &filter).len(), f.flags.len());
    }

    #[test]
    fn tag_kind_and_status_narrow_the_list() {
        let f = sample_file();
        let filter = Filter { tag: "search".into(), ..Filter::default() };
        assert_eq!(keys(&f, &filter), ["search-v2"]);
        let filter = Filter { kind: Some(FlagKind::String), ..Filter::default() };
        assert_eq!(keys(&f, &filter), ["button-color"]);
        let filter = Filter { status: StatusFilter::Disabled, ..Filter::default() };
        assert_eq!(keys(&f, &filter), ["old-banner"]);
        let filter = Filter { status: StatusFilter::RollingOut, ..Filter::default() };
        assert_eq!(keys(&f, &filter), ["new-checkout"]);
        let filter = Filter {
            status: StatusFilter::Enabled,
            kind: Some(FlagKind::Boolean),
            ..Filter::default()
        };
        assert_eq!(keys(&f, &filter), ["new-checkout", "search-v2", "full-on"]);
    }

    #[test]
    fn non_ascii_search_works() {
        let mut f = sample_file();
        f.flags[0].description = "Größe ändern".into();
        let filter = Filter { text: "ÄNDERN".into(), ..Filter::default() };
        assert_eq!(keys(&f, &filter), [f.flags[0].key.clone()]);
    }

    #[test]
    fn tags_and_selects_parse() {
        assert_eq!(all_tags(&sample_file()), ["checkout", "search", "ui"]);
        assert_eq!(FlagKind::parse("number"), Some(FlagKind::Number));
        assert_eq!(FlagKind::parse(""), None);
        assert_eq!(StatusFilter::parse("canary"), StatusFilter::Canary);
        assert_eq!(StatusFilter::parse("nonsense"), StatusFilter::Any);
    }
}
