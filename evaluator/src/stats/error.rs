use serde::Serialize;

/// Why a statistic could not be computed. Callers turn `NotEnoughData` into "no data",
/// `Degenerate` into "inconclusive", and `Invalid` into a reported input problem.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StatsError {
    /// Too few observations for the statistic (e.g. an empty arm, one sample for a variance).
    #[error("not enough data: {message}")]
    NotEnoughData { message: String },
    /// An input is not a valid value: NaN, negative variance, more successes than trials,
    /// histograms with different bucket bounds.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The data are valid but the test is undefined for them (e.g. both arms have zero
    /// variance and different means).
    #[error("degenerate data: {message}")]
    Degenerate { message: String },
}

impl StatsError {
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        StatsError::Invalid { field: field.to_owned(), message: message.into() }
    }

    pub(crate) fn no_data(message: impl Into<String>) -> Self {
        StatsError::NotEnoughData { message: message.into() }
    }

    pub(crate) fn degenerate(message: impl Into<String>) -> Self {
        StatsError::Degenerate { message: message.into() }
    }
}
