//! Prerequisites: each one names a flag and a variation; cycles, and chains deeper than
//! [`MAX_PREREQUISITE_DEPTH`], are refused.

use super::{Compiler, MAX_PREREQUISITE_DEPTH};
use crate::lookup_table::KeyMap;
use crate::model::Flag;
use crate::problems::Path;
use edgeflag_readers::json_text::json_quoted as q;

impl Compiler<'_> {
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn compile_prerequisites(
        &mut self,
        flag: &Flag,
        path: &Path,
        flag_index: &KeyMap<usize>,
    ) -> Option<Vec<(usize, usize)>> {
        let mut out = Vec::with_capacity(flag.prerequisites.len());
        let mut ok = true;
        let list_path = path.field("prerequisites");
        for (i, prerequisite) in flag.prerequisites.iter().enumerate() {
            let p_path = list_path.index(i);
            if prerequisite.flag == flag.key {
                self.problems.push(p_path.field("flag"), "a flag cannot be its own prerequisite");
                ok = false;
                continue;
            }
            let Some(&target) = flag_index.get(&prerequisite.flag) else {
                if !self.broken_flag_keys.contains(&prerequisite.flag) {
                    self.problems
                        .push(p_path.field("flag"), format!("unknown flag {}", q(&prerequisite.flag)));
                }
                ok = false;
                continue;
            };
            let target_flag = &self.file.flags[target];
            match target_flag.variations.iter().position(|v| v.name == prerequisite.variation) {
                Some(v) => out.push((target, v)),
                None => {
                    self.problems.push(
                        p_path.field("variation"),
                        format!("flag {} has no variation {}", q(&prerequisite.flag), q(&prerequisite.variation)),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// Rejects prerequisite cycles and chains deeper than [`MAX_PREREQUISITE_DEPTH`].
    #[cfg_attr(edgeflag_size, optimize(size))]
    pub(super) fn check_prerequisite_cycles(&mut self, flag_index: &KeyMap<usize>) {
        let flags = &self.file.flags;
        let edges: Vec<Vec<usize>> = flags
            .iter()
            .map(|f| f.prerequisites.iter().filter_map(|p| flag_index.get(&p.flag).copied()).collect())
            .collect();
        // 0 = unvisited, 1 = on the stack, 2 = done; iterative DFS so hostile depth cannot
        // overflow the stack.
        let mut state = vec![0u8; flags.len()];
        // Longest prerequisite chain below each finished flag.
        let mut depth = vec![0usize; flags.len()];
        let mut reported = vec![false; flags.len()];
        for start in 0..flags.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if *next < edges[node].len() {
                    let child = edges[node][*next];
                    *next += 1;
                    match state[child] {
                        0 => {
                            state[child] = 1;
                            stack.push((child, 0));
                        }
                        1 => {
                            let cycle_start = stack.iter().position(|&(n, _)| n == child).unwrap_or(0);
                            let mut names: Vec<&str> =
                                stack[cycle_start..].iter().map(|&(n, _)| flags[n].key.as_str()).collect();
                            names.push(flags[child].key.as_str());
                            if !std::mem::replace(&mut reported[child], true) {
                                self.problems.push(
                                    Path::Root.field("flags").index(self.flag_indices[child]).field("prerequisites"),
                                    format!("prerequisite cycle: {}", names.join(" → ")),
                                );
                            }
                        }
                        _ => {}
                    }
                } else {
                    // Chain length below this flag; children are finished (or on a reported
                    // cycle, counted as 0), so visiting order does not matter.
                    let below = edges[node].iter().map(|&c| if state[c] == 2 { depth[c] } else { 0 }).max();
                    depth[node] = below.map_or(0, |d| d + 1);
                    if depth[node] > MAX_PREREQUISITE_DEPTH && !std::mem::replace(&mut reported[node], true) {
                        self.problems.push(
                            Path::Root.field("flags").index(self.flag_indices[node]).field("prerequisites"),
                            format!("prerequisite chain deeper than {MAX_PREREQUISITE_DEPTH}"),
                        );
                    }
                    state[node] = 2;
                    stack.pop();
                }
            }
        }
    }
}
