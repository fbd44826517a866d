//! A lens is a path into the flag file: it reads and writes one part of the model and knows
//! the validation path of that part (e.g. `flags[3].rules[0].clauses[1]`), so a form field
//! can both edit its value and show the evaluator's problems for exactly that path.
//!
//! The same editor components serve a flag's own rules and an environment override's rules
//! because they only see a lens.

use std::sync::Arc;

use edgeflag_evaluator::FlagFile;

type Getter<T> = Arc<dyn for<'a> Fn(&'a FlagFile) -> Option<&'a T> + Send + Sync>;
type Setter<T> = Arc<dyn for<'a> Fn(&'a mut FlagFile) -> Option<&'a mut T> + Send + Sync>;

/// Reads and writes one part of a [`FlagFile`]; `path` is the evaluator's problem path.
pub struct Lens<T: 'static> {
    path: Arc<str>,
    get: Getter<T>,
    get_mut: Setter<T>,
}

impl<T> Clone for Lens<T> {
    fn clone(&self) -> Self {
        Lens { path: self.path.clone(), get: self.get.clone(), get_mut: self.get_mut.clone() }
    }
}

impl Lens<FlagFile> {
    /// The whole file (path `""`).
    pub fn root() -> Self {
        fn whole(file: &FlagFile) -> Option<&FlagFile> {
            Some(file)
        }
        fn whole_mut(file: &mut FlagFile) -> Option<&mut FlagFile> {
            Some(file)
        }
        Lens { path: Arc::from(""), get: Arc::new(whole), get_mut: Arc::new(whole_mut) }
    }
}

impl<T: 'static> Lens<T> {
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The part, if it exists in this file.
    pub fn get<'a>(&self, file: &'a FlagFile) -> Option<&'a T> {
        (self.get)(file)
    }

    pub fn get_mut<'a>(&self, file: &'a mut FlagFile) -> Option<&'a mut T> {
        (self.get_mut)(file)
    }

    /// A lens one step further in. `segment` is appended to the path as written: `.rules`,
    /// `[2]`; a leading dot is dropped at the root.
    pub fn then<U: 'static>(
        &self,
        segment: &str,
        get: impl for<'a> Fn(&'a T) -> Option<&'a U> + Send + Sync + 'static,
        get_mut: impl for<'a> Fn(&'a mut T) -> Option<&'a mut U> + Send + Sync + 'static,
    ) -> Lens<U> {
        let outer_get = self.get.clone();
        let outer_mut = self.get_mut.clone();
        Lens {
            path: Arc::from(join_path(&self.path, segment)),
            get: Arc::new(move |file| outer_get(file).and_then(&get)),
            get_mut: Arc::new(move |file| outer_mut(file).and_then(&get_mut)),
        }
    }
}

impl<U: 'static> Lens<Vec<U>> {
    /// The element at `index` (path `[index]`).
    pub fn at(&self, index: usize) -> Lens<U> {
        self.then(&format!("[{index}]"), move |v| v.get(index), move |v| v.get_mut(index))
    }
}

impl<U: 'static> Lens<Option<U>> {
    /// The value inside the option (same path: serde paths do not mention `Some`).
    pub fn some(&self) -> Lens<U> {
        self.then("", |o| o.as_ref(), |o| o.as_mut())
    }
}

/// The path segment of a map key, as the evaluator writes it: `.prod`, or `["odd key"]` when
/// the key is not a plain identifier.
pub use edgeflag_readers::json_text::path_segment as key_segment;

/// `base` + `segment`, without a leading dot at the root.
pub fn join_path(base: &str, segment: &str) -> String {
    if base.is_empty() {
        segment.trim_start_matches('.').to_string()
    } else {
        format!("{base}{segment}")
    }
}

/// `lens!(l, rules)` is `l.then(".rules", |x| Some(&x.rules), |x| Some(&mut x.rules))`.
#[macro_export]
macro_rules! lens {
    ($lens:expr, $field:ident) => {
        $lens.then(
            concat!(".", stringify!($field)),
            |x| Some(&x.$field),
            |x| Some(&mut x.$field),
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeflag_evaluator::model::Flag;

    fn file() -> FlagFile {
        serde_json::from_str(
            r#"{"schema_version":1,"flags":[
              {"key":"a","kind":"boolean","enabled":true,"off_variation":"off","default_variation":"off",
               "variations":[{"name":"on","value":true},{"name":"off","value":false}],
               "rollout":{"percent_bp":500,"variation":"on"}}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn paths_follow_the_evaluator_format() {
        let flags: Lens<Vec<Flag>> = lens!(Lens::root(), flags);
        let rollout = lens!(flags.at(0), rollout).some();
        let bp = lens!(rollout, percent_bp);
        assert_eq!(flags.path(), "flags");
        assert_eq!(bp.path(), "flags[0].rollout.percent_bp");
        assert_eq!(lens!(flags.at(0), variations).at(1).path(), "flags[0].variations[1]");
    }

    #[test]
    fn map_keys_are_quoted_when_not_plain() {
        assert_eq!(key_segment("prod"), ".prod");
        assert_eq!(key_segment("eu west"), "[\"eu west\"]");
        assert_eq!(join_path("flags[0].environments", &key_segment("a.b")), "flags[0].environments[\"a.b\"]");
    }

    #[test]
    fn reads_and_writes_through_the_path() {
        let mut f = file();
        let bp = lens!(lens!(lens!(Lens::root(), flags).at(0), rollout).some(), percent_bp);
        assert_eq!(bp.get(&f), Some(&500));
        *bp.get_mut(&mut f).unwrap() = 1234;
        assert_eq!(f.flags[0].rollout.as_ref().unwrap().percent_bp, 1234);
    }

    #[test]
    fn missing_parts_read_as_none() {
        let f = file();
        let flags = lens!(Lens::root(), flags);
        assert!(flags.at(5).get(&f).is_none());
        assert!(lens!(flags.at(0), canary).some().get(&f).is_none());
    }
}
