//! The evaluator's validation problems, looked up by path for the form fields.

use edgeflag_evaluator::Problem;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProblemIndex {
    pub problems: Vec<Problem>,
}

impl ProblemIndex {
    pub fn new(problems: Vec<Problem>) -> Self {
        ProblemIndex { problems }
    }

    /// Messages for exactly this path (shown beside the field).
    pub fn at(&self, path: &str) -> Vec<String> {
        self.problems.iter().filter(|p| p.path == path).map(|p| p.message.clone()).collect()
    }

    /// How many problems are at or inside this path (shown on sections and list rows).
    pub fn count_within(&self, path: &str) -> usize {
        self.problems.iter().filter(|p| is_within(&p.path, path)).count()
    }

    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn len(&self) -> usize {
        self.problems.len()
    }
}

/// `flags[1].rules` is within `flags[1]`; `flags[10]` is not within `flags[1]`.
pub fn is_within(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with(['.', '[']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(path: &str, message: &str) -> Problem {
        Problem { path: path.into(), message: message.into() }
    }

    #[test]
    fn looks_up_by_exact_path_and_by_section() {
        let index = ProblemIndex::new(vec![
            problem("flags[1].rollout.percent_bp", "must be at most 10000"),
            problem("flags[1].rules[0].clauses[0].values[0]", "invalid semver"),
            problem("flags[10].key", "duplicate key"),
        ]);
        assert_eq!(index.at("flags[1].rollout.percent_bp"), ["must be at most 10000"]);
        assert!(index.at("flags[1].rollout").is_empty());
        assert_eq!(index.count_within("flags[1]"), 2);
        assert_eq!(index.count_within("flags[10]"), 1);
        assert_eq!(index.count_within(""), 3);
        assert_eq!(index.len(), 3);
    }
}
