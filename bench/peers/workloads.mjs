// The same logical flags for every system of the JS benchmark (bench/js-peers.mjs, the
// Chromium page bench/peers/page.html and the workerd run bench/peers/worker.js).
// Plain ESM with no imports, so Node, Chromium and workerd load it as is.
//
// Four flags, each in every system's own format:
//   static-bool   boolean, no targeting: everyone gets true
//   rollout-10    boolean, 10 % of users (by targeting key) get true
//   rules-5       boolean, 5 rules that the benchmark users all miss (country in DE/AT/CH,
//                 email ends with @example.org, app_version >= 9.0.0, ip in 10.0.0.0/8,
//                 plan matches ^ent(erprise)?$), then a 25 % rollout
//   experiment-3  string, a 3-variant experiment (33.34 / 33.33 / 33.33 %)
// `flagFiles(n)` repeats these four shapes (keys "<shape>-<i>") for evaluate-all and cold start.
//
// Stand-ins, where a system lacks the operator (STAND_INS below is printed with the table):
export const STAND_INS = [
  "flagd-core: no CIDR or regex operator: ip `starts_with \"10.\"`, plan `in [ent, enterprise]`",
  "GrowthBook: no ends-with or CIDR operator: email `$regex \"@example\\.org$\"`, ip `$regex \"^10\\.\"`",
  "unleash-client: no CIDR constraint: ip through the `remoteAddress` strategy (IPs 10.0.0.0/8)",
  "Flipt: no semver, CIDR or regex: app_version `prefix \"9.\"`, ip `prefix \"10.\"`, plan `isoneof [ent, enterprise]`",
];

export const SHAPES = ["static-bool", "rollout-10", "rules-5", "experiment-3"];

/** Attribute values every benchmark user has: they miss all five rules of rules-5. */
export const USER = { country: "FR", email: "ana@example.com", app_version: "2.1.0", ip: "192.168.1.20", plan: "free" };

/** `count` distinct targeting keys (a new user on every call: the keys cycle through these). */
export function userKeys(count = 4096) {
  return Array.from({ length: count }, (_, i) => `user-${(i * 7919) % 1000003}`);
}

/** The keys of a file of `n` flags: the four shapes in turn. */
export function flagKeys(n) {
  if (n === 4) return [...SHAPES];
  return Array.from({ length: n }, (_, i) => `${SHAPES[i % 4]}-${i}`);
}
const shapeOf = (key) => SHAPES.find((s) => key === s || key.startsWith(`${s}-`));

// ---- edgeflag -------------------------------------------------------------------------
function edgeflagFlag(key) {
  const onOff = [{ name: "on", value: true }, { name: "off", value: false }];
  const base = { key, kind: "boolean", enabled: true, variations: onOff, off_variation: "off", default_variation: "off" };
  const clause = (attribute, operator, values) => ({ attribute, operator, values });
  switch (shapeOf(key)) {
    case "static-bool":
      return { ...base, default_variation: "on" };
    case "rollout-10":
      return { ...base, rollout: { percent_bp: 1000, variation: "on" } };
    case "rules-5":
      return {
        ...base,
        rules: [
          { clauses: [clause("country", "in", ["DE", "AT", "CH"])], variation: "on" },
          { clauses: [clause("email", "ends_with", ["@example.org"])], variation: "on" },
          { clauses: [clause("app_version", "semver_gte", ["9.0.0"])], variation: "on" },
          { clauses: [clause("ip", "ip_in_cidr", ["10.0.0.0/8"])], variation: "on" },
          { clauses: [clause("plan", "regex", ["^ent(erprise)?$"])], variation: "on" },
        ],
        rollout: { percent_bp: 2500, variation: "on" },
      };
    default:
      return {
        key, kind: "string", enabled: true,
        variations: [{ name: "a", value: "A" }, { name: "b", value: "B" }, { name: "c", value: "C" }],
        off_variation: "a", default_variation: "a",
        experiment: { variants: [{ variation: "a", weight_bp: 3334 }, { variation: "b", weight_bp: 3333 }, { variation: "c", weight_bp: 3333 }] },
      };
  }
}
export const edgeflagFile = (n = 4) => ({ schema_version: 1, flags: flagKeys(n).map(edgeflagFlag) });
export const edgeflagContext = (key) => ({ targetingKey: key, ...USER });

// ---- flagd (flagd-core, interpreter mode) ---------------------------------------------
function flagdFlag(key) {
  const bool = { state: "ENABLED", variants: { on: true, off: false }, defaultVariant: "off" };
  switch (shapeOf(key)) {
    case "static-bool":
      return { ...bool, defaultVariant: "on" };
    case "rollout-10":
      return { ...bool, targeting: { fractional: [["on", 10], ["off", 90]] } };
    case "rules-5":
      return {
        ...bool,
        targeting: {
          if: [
            { in: [{ var: "country" }, ["DE", "AT", "CH"]] }, "on",
            { ends_with: [{ var: "email" }, "@example.org"] }, "on",
            { sem_ver: [{ var: "app_version" }, ">=", "9.0.0"] }, "on",
            { starts_with: [{ var: "ip" }, "10."] }, "on",
            { in: [{ var: "plan" }, ["ent", "enterprise"]] }, "on",
            { fractional: [["on", 25], ["off", 75]] },
          ],
        },
      };
    default:
      return {
        state: "ENABLED", variants: { a: "A", b: "B", c: "C" }, defaultVariant: "a",
        targeting: { fractional: [["a", 3334], ["b", 3333], ["c", 3333]] },
      };
  }
}
export const flagdConfig = (n = 4) => ({ flags: Object.fromEntries(flagKeys(n).map((k) => [k, flagdFlag(k)])) });
export const flagdIsString = (key) => shapeOf(key) === "experiment-3";

// ---- GrowthBook ------------------------------------------------------------------------
function growthbookFeature(key) {
  switch (shapeOf(key)) {
    case "static-bool":
      return { defaultValue: true };
    case "rollout-10":
      return { defaultValue: false, rules: [{ force: true, coverage: 0.1, hashAttribute: "id" }] };
    case "rules-5":
      return {
        defaultValue: false,
        rules: [
          { condition: { country: { $in: ["DE", "AT", "CH"] } }, force: true },
          { condition: { email: { $regex: "@example\\.org$" } }, force: true },
          { condition: { app_version: { $vgte: "9.0.0" } }, force: true },
          { condition: { ip: { $regex: "^10\\." } }, force: true },
          { condition: { plan: { $regex: "^ent(erprise)?$" } }, force: true },
          { force: true, coverage: 0.25, hashAttribute: "id" },
        ],
      };
    default:
      return {
        defaultValue: "A",
        rules: [{ key, variations: ["A", "B", "C"], weights: [0.3334, 0.3333, 0.3333], hashAttribute: "id" }],
      };
  }
}
export const growthbookPayload = (n = 4) => ({ features: Object.fromEntries(flagKeys(n).map((k) => [k, growthbookFeature(k)])) });
export const growthbookAttributes = (key) => ({ id: key, ...USER });

// ---- Unleash (unleash-client, and edgeflag's Unleash entry on the same payload) -------------
function unleashFeature(name) {
  const rollout = (percent) => ({ name: "flexibleRollout", parameters: { rollout: String(percent), stickiness: "default", groupId: name }, constraints: [] });
  const when = (constraint) => ({ name: "default", parameters: {}, constraints: [constraint] });
  switch (shapeOf(name)) {
    case "static-bool":
      return { name, enabled: true, strategies: [{ name: "default", parameters: {}, constraints: [] }] };
    case "rollout-10":
      return { name, enabled: true, strategies: [rollout(10)] };
    case "rules-5":
      return {
        name, enabled: true,
        strategies: [
          when({ contextName: "country", operator: "IN", values: ["DE", "AT", "CH"] }),
          when({ contextName: "email", operator: "STR_ENDS_WITH", values: ["@example.org"] }),
          when({ contextName: "app_version", operator: "SEMVER_GTE", value: "9.0.0" }),
          { name: "remoteAddress", parameters: { IPs: "10.0.0.0/8" }, constraints: [] },
          when({ contextName: "plan", operator: "REGEX", value: "^ent(erprise)?$" }),
          rollout(25),
        ],
      };
    default:
      return {
        name, enabled: true, strategies: [rollout(100)],
        variants: ["a", "b", "c"].map((v, i) => ({ name: v, weight: i === 0 ? 334 : 333, stickiness: "default", weightType: "variable", payload: { type: "string", value: v.toUpperCase() } })),
      };
  }
}
export const unleashPayload = (n = 4) => ({ version: 2, features: flagKeys(n).map(unleashFeature) });
export const unleashIsVariant = (name) => shapeOf(name) === "experiment-3";
export const unleashContext = (key) => ({
  userId: key, remoteAddress: USER.ip,
  properties: { country: USER.country, email: USER.email, app_version: USER.app_version, plan: USER.plan },
});

// ---- Flipt (client-side evaluation snapshot, /internal/v1/evaluation/snapshot) ------------
function fliptFlag(key) {
  const segment = (property, operator, value) => ({
    type: "SEGMENT_ROLLOUT_TYPE", rank: 0,
    segment: {
      value: true, segmentOperator: "OR_SEGMENT_OPERATOR",
      segments: [{ key: `${property}-seg`, name: "", description: "", matchType: "ALL_SEGMENT_MATCH_TYPE",
        constraints: [{ id: property, type: "STRING_CONSTRAINT_COMPARISON_TYPE", property, operator, value }] }],
    },
  });
  const threshold = (percentage) => ({ type: "THRESHOLD_ROLLOUT_TYPE", rank: 0, threshold: { percentage, value: true } });
  const ranked = (list) => list.map((r, i) => ({ ...r, rank: i + 1 }));
  const bool = (enabled, rollouts) => ({ key, name: key, description: "", enabled, type: "BOOLEAN_FLAG_TYPE", rules: [], rollouts: ranked(rollouts) });
  switch (shapeOf(key)) {
    case "static-bool":
      return bool(true, []);
    case "rollout-10":
      return bool(false, [threshold(10)]);
    case "rules-5":
      return bool(false, [
        segment("country", "isoneof", '["DE","AT","CH"]'),
        segment("email", "suffix", "@example.org"),
        segment("app_version", "prefix", "9."),
        segment("ip", "prefix", "10."),
        segment("plan", "isoneof", '["ent","enterprise"]'),
        threshold(25),
      ]);
    default:
      return {
        key, name: key, description: "", enabled: true, type: "VARIANT_FLAG_TYPE", rollouts: [],
        rules: [{
          id: `${key}-r`, rank: 1, segmentOperator: "OR_SEGMENT_OPERATOR",
          segments: [{ key: "everyone", name: "", description: "", matchType: "ALL_SEGMENT_MATCH_TYPE", constraints: [] }],
          distributions: [["a", 33.34], ["b", 33.33], ["c", 33.33]].map(([v, rollout]) => ({ id: "", ruleId: `${key}-r`, variantId: v, variantKey: v, variantAttachment: "", rollout })),
        }],
      };
  }
}
export const fliptSnapshot = (n = 4) => ({ namespace: { key: "default" }, flags: flagKeys(n).map(fliptFlag) });
export const fliptIsVariant = (key) => shapeOf(key) === "experiment-3";
export const fliptContext = () => ({ ...USER });
