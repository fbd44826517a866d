//! The problem list: **every** problem of a flag file, each with its JSON path.
//!
//! [`Problem`] (a path and a message), the collector ([`Problems`]) and the path built while
//! reading ([`Path`]; its text syntax is `edgeflag_readers::json_text`). Structural problems (JSON syntax, wrong types, missing, unknown and duplicate
//! fields) are found by [`crate::decode`]; semantic ones (unknown references, bad regexes,
//! weights, stage order...) by `crate::compile`. Both report every problem, not the first.

use std::fmt;

use serde::Serialize;

use edgeflag_readers::json_text::{field_path, index_path};

/// More problems than this are summarised: nobody reads ten thousand lines, and a huge broken
/// file must not cost unbounded memory.
pub const MAX_PROBLEMS: usize = 1000;

/// One thing wrong with a flag file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Where: `flags[3].rules[0].clauses[1].values[0]`; empty for the whole document.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a flag file (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ValidationErrors {
    pub problems: Vec<Problem>,
    /// Problems found beyond [`MAX_PROBLEMS`] and not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub omitted: usize,
}

#[cfg_attr(edgeflag_size, optimize(size))]
fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl fmt::Display for ValidationErrors {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len() + self.omitted;
        write!(f, "invalid flag file ({count} problem{})", if count == 1 { "" } else { "s" })?;
        for problem in &self.problems {
            write!(f, "\n{problem}")?;
        }
        if self.omitted > 0 {
            write!(f, "\n... and {} more", self.omitted)?;
        }
        Ok(())
    }
}

/// Collects problems, keeping the first [`MAX_PROBLEMS`].
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
    omitted: usize,
}

impl Problems {
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem { path: path.into(), message: message.into() });
        } else {
            self.omitted += 1;
        }
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Problems found so far, including omitted ones.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn len(&self) -> usize {
        self.list.len() + self.omitted
    }

    /// The problems as an error. Only for callers that know something went wrong: an empty
    /// list still becomes one problem, so an error is never without a reason.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn into_errors(mut self) -> ValidationErrors {
        if self.list.is_empty() && self.omitted == 0 {
            self.push("", "the flag file could not be read");
        }
        ValidationErrors { problems: self.list, omitted: self.omitted }
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(ValidationErrors { problems: self.list, omitted: self.omitted })
        }
    }
}

/// Where a value sits in the document, built on the stack while the readers descend and only
/// written out as text when a problem is reported there: most loads report nothing, and
/// formatting the path of every field was a third of a clean load's time (callgrind on
/// `examples/load_loop.rs`).
#[derive(Debug, Clone, Copy)]
pub enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    /// `self.name`.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn field(&'a self, name: &'a str) -> Path<'a> {
        Path::Field(self, name)
    }

    /// `self[index]`.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn index(&'a self, index: usize) -> Path<'a> {
        Path::Index(self, index)
    }

    /// The path as text: `flags[3].rules[0]`, empty for the root.
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Field(parent, name) => field_path(&parent.render(), name),
            Path::Index(parent, index) => index_path(&parent.render(), *index),
        }
    }
}

impl From<&Path<'_>> for String {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn from(path: &Path<'_>) -> String {
        path.render()
    }
}

impl From<Path<'_>> for String {
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn from(path: Path<'_>) -> String {
        path.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn paths_quote_unusual_keys() {
        assert_eq!(field_path("a", "b"), "a.b");
        assert_eq!(field_path("a", "my env"), "a[\"my env\"]");
        assert_eq!(field_path("", "flags"), "flags");
        assert_eq!(index_path("flags", 3), "flags[3]");
        let flags = Path::Root.field("flags");
        let env = flags.index(3);
        assert_eq!(env.field("environments").field("my env").render(), "flags[3].environments[\"my env\"]");
        assert_eq!(Path::Root.render(), "");
    }

    #[test]
    #[cfg_attr(edgeflag_size, optimize(size))]
    fn problems_stop_listing_at_the_limit_but_keep_counting() {
        let mut problems = Problems::default();
        for i in 0..MAX_PROBLEMS + 5 {
            problems.push(index_path("flags", i), "bad");
        }
        let errors = problems.into_errors();
        assert_eq!((errors.problems.len(), errors.omitted), (MAX_PROBLEMS, 5));
        assert_eq!(Problems::default().into_errors().problems.len(), 1, "an error always has a reason");
    }
}
