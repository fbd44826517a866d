// What changed between two versions of a flag file, for PROVIDER_CONFIGURATION_CHANGED's
// `flagsChanged`: a flag whose definition changed, or that is new or gone, and every flag whose
// answers can change with it: flags using a changed segment (`in_segment`) and flags with a
// changed flag as a prerequisite, transitively. Environment lists count as a change of every flag.

/** A summary of one file's text (already validated by the engine). */
export function describe(text) {
  const file = JSON.parse(text);
  const flags = new Map(); // key -> canonical JSON
  const segmentsUsed = new Map(); // key -> Set(segment keys)
  const prerequisites = new Map(); // key -> Set(flag keys)
  for (const flag of file.flags ?? []) {
    flags.set(flag.key, canonical(flag));
    const used = new Set();
    collectSegments(flag, used);
    segmentsUsed.set(flag.key, used);
    prerequisites.set(flag.key, new Set((flag.prerequisites ?? []).map((p) => p.flag)));
  }
  const segments = new Map((file.segments ?? []).map((s) => [s.key, canonical(s)]));
  return { flags, segments, segmentsUsed, prerequisites, environments: canonical(file.environments ?? null) };
}

/** Keys (of either version) whose answers may differ between `before` and `after`. */
export function changedFlags(before, after) {
  const all = new Set([...before.flags.keys(), ...after.flags.keys()]);
  if (before.environments !== after.environments) return [...all];
  const changedSegments = new Set();
  for (const key of new Set([...before.segments.keys(), ...after.segments.keys()])) {
    if (before.segments.get(key) !== after.segments.get(key)) changedSegments.add(key);
  }
  const changed = new Set();
  for (const key of all) {
    if (before.flags.get(key) !== after.flags.get(key)) changed.add(key);
    else if ([...(after.segmentsUsed.get(key) ?? [])].some((s) => changedSegments.has(s))) changed.add(key);
  }
  // Flags depending on a changed flag, until nothing is added.
  for (let grew = true; grew; ) {
    grew = false;
    for (const [key, prereqs] of after.prerequisites) {
      if (!changed.has(key) && [...prereqs].some((p) => changed.has(p))) {
        changed.add(key);
        grew = true;
      }
    }
  }
  return [...all].filter((k) => changed.has(k));
}

function collectSegments(node, out) {
  if (Array.isArray(node)) {
    for (const n of node) collectSegments(n, out);
  } else if (node && typeof node === "object") {
    if (node.operator === "in_segment" && Array.isArray(node.values)) for (const v of node.values) out.add(v);
    for (const k in node) collectSegments(node[k], out);
  }
}

/** JSON with object keys sorted, so that key order alone is no change. */
function canonical(value) {
  return JSON.stringify(value, (_, v) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v,
  );
}
