//! Targeting: a flag's target lists and rules, and the clauses rules and segments share.

use super::{join_suffix, CompiledRule, Compiler, FlagScope};
use crate::lookup_table::{first_positions, KeyMap, KeySet};
use crate::matching::{compile_clause, CompiledClause};
use crate::model::{Rule, Target};
use crate::problems::Path;
use edgeflag_readers::json_text::json_quoted as q;

impl Compiler<'_> {
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn compile_clauses(
        &mut self,
        clauses: &[crate::model::Clause],
        rule_path: &Path,
        segment_index: &KeyMap<usize>,
    ) -> Option<Vec<CompiledClause>> {
        let clauses_path = rule_path.field("clauses");
        if clauses.is_empty() {
            self.problems.push(clauses_path, "a rule needs at least one clause");
        }
        let broken = self.broken_segment_keys;
        let lookup = |key: &str| -> Option<usize> {
            match segment_index.get(key) {
                Some(&i) => Some(i),
                // A segment that failed to decode is already reported; point at a dummy so
                // this clause is not reported as an unknown reference too.
                None if broken.contains(key) => Some(usize::MAX),
                None => None,
            }
        };
        let mut compiled = Vec::with_capacity(clauses.len());
        let mut ok = true;
        for (c, clause) in clauses.iter().enumerate() {
            let clause_path = clauses_path.index(c);
            let mut found = Vec::new();
            match compile_clause(clause, &lookup, &mut found) {
                Some(cc) if found.is_empty() => compiled.push(cc),
                _ => ok = false,
            }
            for (suffix, message) in found {
                self.problems.push(join_suffix(&clause_path.render(), &suffix), message);
            }
        }
        ok.then_some(compiled)
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn compile_targets(
        &mut self,
        scope: &FlagScope,
        targets: &[Target],
        deny: &[String],
        path: &Path,
    ) -> Option<(KeySet, KeyMap<usize>)> {
        let before = self.problems_len();
        let first_deny = first_positions(&deny.iter().map(String::as_str).collect::<Vec<_>>());
        for (i, key) in deny.iter().enumerate() {
            if first_deny[i] != i {
                self.problems.push(path.field("deny").index(i), format!("duplicate key {}", q(key)));
            }
        }
        let deny_set = KeySet::from_keys(deny.iter().cloned());
        // The keys that get a variation (their target's variation exists, they are not denied),
        // in order: a repeat among them is targeted more than once.
        let candidates: Vec<&str> = targets
            .iter()
            .filter(|target| scope.variations.contains_key(&target.variation))
            .flat_map(|target| target.keys.iter().map(String::as_str))
            .filter(|key| !deny_set.contains(key))
            .collect();
        let first = first_positions(&candidates);
        let mut candidate = 0;
        let mut entries = Vec::with_capacity(candidates.len());
        let targets_path = path.field("targets");
        for (t, target) in targets.iter().enumerate() {
            let t_path = targets_path.index(t);
            let variation = self.variation_ref(scope.variations, &target.variation, &t_path.field("variation"));
            for (k, key) in target.keys.iter().enumerate() {
                if deny_set.contains(key) {
                    self.problems.push(t_path.field("keys").index(k), format!("{} is also on the deny list", q(key)));
                } else if let Some(v) = variation {
                    if first[candidate] != candidate {
                        self.problems.push(t_path.field("keys").index(k), format!("{} is targeted more than once", q(key)));
                    } else {
                        entries.push((key.clone(), v));
                    }
                    candidate += 1;
                }
            }
        }
        (self.problems_len() == before).then_some((deny_set, KeyMap::from_entries(entries)))
    }

    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn compile_rules(&mut self, scope: &FlagScope, rules: &[Rule], path: &Path) -> Option<Vec<CompiledRule>> {
        let mut out = Vec::with_capacity(rules.len());
        let mut ok = true;
        for (r, rule) in rules.iter().enumerate() {
            let r_path = path.index(r);
            let variation = self.variation_ref(scope.variations, &rule.variation, &r_path.field("variation"));
            let clauses = self.compile_clauses(&rule.clauses, &r_path, scope.segment_index);
            match (variation, clauses) {
                (Some(variation), Some(clauses)) => out.push(CompiledRule { clauses, variation }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }
}
