//! The TypeScript types of contexts, answers, errors and the flag file, appended to the
//! generated `.d.ts`; the exported functions refer to them with `unchecked_*_type`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Any JSON value (a variation value, a context attribute). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Who is asking (OpenFeature's flat context). `targetingKey` is the unit for splits. */
export interface EvaluationContext {
  targetingKey?: string | number | null;
  [attribute: string]: JsonValue | undefined;
}

export type Reason =
  | "STATIC" | "TARGETING_MATCH" | "SPLIT" | "DISABLED" | "DEFAULT" | "PREREQUISITE_FAILED" | "ERROR";

export type ErrorCode =
  | "FLAG_NOT_FOUND" | "TYPE_MISMATCH" | "PARSE_ERROR" | "TARGETING_KEY_MISSING"
  | "INVALID_CONTEXT" | "GENERAL";

export type Arm = "canary" | "baseline";

export type FlagKind = "boolean" | "string" | "number" | "json";

/** One flag's answer. `value` and `variant` are null only with reason "ERROR". */
export interface EvaluationResult {
  key: string;
  value: JsonValue;
  variant: string | null;
  reason: Reason;
  /** Index of the matching rule (reason "TARGETING_MATCH" from a rule). */
  ruleIndex?: number;
  /** Canary side, for canary flags. */
  arm?: Arm;
  /** Present (true) when the value came from an experiment's weighted split. */
  experiment?: true;
  errorCode?: ErrorCode;
  errorMessage?: string;
}

/**
 * `flags.flag(key, env?)`: one flag (and environment) resolved once, evaluated many times.
 * Answers equal `flags.evaluate(key, context, env)`; the fastest way to ask for one flag.
 */
export interface FlagHandle {
  readonly key: string;
  readonly env: string | null;
  /** The answer for `context` (a plain object; `undefined`/`null` is anonymous). */
  evaluate(context?: EvaluationContext | string | null): EvaluationResult;
}

export interface FlagSet {
  /** The keys of every flag, in file order. */
  readonly flagKeys: string[];
  /**
   * Evaluates one flag. An unknown flag is an answer (`errorCode: "FLAG_NOT_FOUND"`), not a
   * throw; only unusable arguments throw. Reads only the context attributes the flag uses.
   * The answer is frozen and shared between calls that get the same answer.
   */
  evaluate(flagKey: string, context: EvaluationContext | string, env?: string | null): EvaluationResult;
  /**
   * Evaluates one flag, expecting a value kind: a flag of another kind answers
   * `errorCode: "TYPE_MISMATCH"` (what OpenFeature's typed resolvers need).
   */
  evaluateAs(flagKey: string, kind: FlagKind, context: EvaluationContext | string, env?: string | null): EvaluationResult;
  /** Evaluates every flag for one context, in file order. */
  evaluateAll(context: EvaluationContext | string, env?: string | null): EvaluationResult[];
  /** Like `evaluate`, with a context converted once by `new PreparedContext()`. */
  evaluatePrepared(flagKey: string, context: PreparedContext, env?: string | null): EvaluationResult;
  /** Like `evaluateAll`, with a prepared context. */
  evaluateAllPrepared(context: PreparedContext, env?: string | null): EvaluationResult[];
  /**
   * Text in, text out: the context as JSON text and the answer as JSON text (an
   * `EvaluationResult`), for callers that forward the answer without reading it.
   */
  evaluateJson(flagKey: string, contextJson: string, env?: string | null): string;
  /** Text in, text out for every flag (a JSON array of `EvaluationResult`). */
  evaluateAllJson(contextJson: string, env?: string | null): string;
  /**
   * A handle on one flag: its key and environment are looked up once per loaded file,
   * not per call. An unknown key answers `FLAG_NOT_FOUND` (until a `replace` adds it).
   */
  flag(flagKey: string, env?: string | null): FlagHandle;
}

/**
 * A flag file loaded by `FlagSet.loadValidated(text, checksum)` (import `ValidatedFlagSet` or
 * use the static): the same methods and answers as `FlagSet`. When the checksum matches, the
 * load checks the top level, environments and segments and finds each flag's text; each flag
 * is loaded (and checked) by the engine the first time it is evaluated, with its
 * prerequisites and segments. A flag that is in fact invalid then throws its problems (paths
 * in the whole file) from every evaluation that reaches it. When the checksum does not match,
 * or the text is not laid out as expected, the whole file is loaded and checked at once, as by
 * `new FlagSet(text)`, which throws every problem.
 */
export declare class ValidatedFlagSet {
  private constructor();
  /**
   * `FlagSet.loadValidated`. `checksum`: the server's `/edge/manifest.json` `xxh64` (16 hex
   * digits: XXH64 of the text's UTF-8 bytes, checked inside the module, the faster cold
   * start) or its `sha256` (64 hex digits, checked with WebCrypto).
   */
  static load(text: string, checksum: string): Promise<ValidatedFlagSet>;
  /** Whether flags are loaded on first use (the checksum matched) rather than all at load. */
  readonly lazy: boolean;
  /** Counts successful loads: 1 after `load`, +1 per `replace` or `replaceValidated`. */
  readonly revision: number;
  readonly flagKeys: string[];
  /** Like `FlagSet.replace`: the whole new file is checked at once; on error the old flags stay. */
  replace(file: FlagFile | string): void;
  /** Like `load`, for a newer version: on error the old flags stay. */
  replaceValidated(text: string, checksum: string): Promise<void>;
  evaluate(flagKey: string, context: EvaluationContext | string, env?: string | null): EvaluationResult;
  evaluateAs(flagKey: string, kind: FlagKind, context: EvaluationContext | string, env?: string | null): EvaluationResult;
  evaluateAll(context: EvaluationContext | string, env?: string | null): EvaluationResult[];
  evaluatePrepared(flagKey: string, context: PreparedContext, env?: string | null): EvaluationResult;
  evaluateAllPrepared(context: PreparedContext, env?: string | null): EvaluationResult[];
  evaluateJson(flagKey: string, contextJson: string, env?: string | null): string;
  evaluateAllJson(contextJson: string, env?: string | null): string;
  flag(flagKey: string, env?: string | null): FlagHandle;
  /** Frees the WASM memory of every flag loaded so far. */
  free(): void;
}

export declare namespace FlagSet {
  /**
   * Loads a file the edgeflag server validated when it was published, for a fast cold
   * start: see `ValidatedFlagSet`. `checksum` is the manifest's `xxh64` (recommended) or
   * `sha256` of the text's UTF-8 bytes.
   */
  function loadValidated(text: string, checksum: string): Promise<ValidatedFlagSet>;
}

/**
 * The bucketing hash: murmur3 x86 32-bit (seed 0) of `salt + ":" + unit`, as an unsigned
 * 32-bit number (see `spec/bucketing-vectors.json`).
 */
export function hash(salt: string, unit: string): number;
/** The bucket of `unit` under `salt`, in `0..10000` (basis points). */
export function bucket(salt: string, unit: string): number;

/**
 * Checks a flag file as `new FlagSet` does: every problem with its path (empty when
 * valid). Throws only when the argument is unusable (not a string or an object, too large).
 */
export function validateFlagFile(file: FlagFile | string): Problem[];

/** One validation problem: `path` like "flags[3].rules[0].clauses[1].values[0]". */
export interface Problem {
  path: string;
  message: string;
}

export type EdgeflagErrorCode =
  | "INVALID_FLAG_FILE" | "INVALID_CONTEXT" | "INVALID_ARGUMENT" | "INPUT_TOO_LARGE" | "INTERNAL";

/** What every function of this module throws (an `Error` instance). */
export interface EdgeflagError extends Error {
  name: "EdgeflagError";
  code: EdgeflagErrorCode;
  /** Every located problem (flag files); empty otherwise. */
  problems: Problem[];
}

export type Operator =
  | "in" | "not_in" | "eq" | "contains" | "starts_with" | "ends_with" | "regex"
  | "num_eq" | "num_lt" | "num_lte" | "num_gt" | "num_gte"
  | "semver_eq" | "semver_lt" | "semver_lte" | "semver_gt" | "semver_gte"
  | "date_before" | "date_after" | "ip_in_cidr" | "in_segment";

export interface Clause {
  attribute?: string;
  operator: Operator;
  values: JsonValue[];
  negate?: boolean;
  case_insensitive?: boolean;
}

export interface Rule { description?: string; clauses: Clause[]; variation: string; }
export interface Target { variation: string; keys: string[]; }
export interface Prerequisite { flag: string; variation: string; }
export interface Variation { name: string; value: JsonValue; description?: string; }

export interface Rollout { percent_bp: number; variation: string; stickiness?: string; salt?: string; }

export interface CanaryStage {
  percent: number;
  min_duration: string;
  gate: { max_error_rate: number; max_p99_ms: number; min_samples: number };
}

export interface Canary {
  baseline: string;
  canary: string;
  stages: CanaryStage[];
  current_stage?: number;
  status?: "running" | "paused" | "rolled_back" | "completed";
  stage_started_at?: string;
  stickiness?: string;
  salt?: string;
}

export interface Experiment {
  variants: { variation: string; weight_bp: number }[];
  traffic_bp?: number;
  stickiness?: string;
  salt?: string;
  experiment_salt?: string;
}

export interface EnvironmentOverride {
  enabled?: boolean;
  default_variation?: string;
  targets?: Target[];
  deny?: string[];
  rules?: Rule[];
  rollout?: Rollout;
  canary?: Canary;
  experiment?: Experiment;
}

export interface Flag {
  key: string;
  description?: string;
  tags?: string[];
  kind: FlagKind;
  variations: Variation[];
  enabled: boolean;
  off_variation: string;
  default_variation: string;
  prerequisites?: Prerequisite[];
  targets?: Target[];
  deny?: string[];
  rules?: Rule[];
  rollout?: Rollout;
  canary?: Canary;
  experiment?: Experiment;
  environments?: { [environment: string]: EnvironmentOverride };
}

export interface Segment {
  key: string;
  description?: string;
  included?: string[];
  excluded?: string[];
  rules?: { clauses: Clause[] }[];
}

/** The flag file (schema version 1), as `examples/flags.json`. */
export interface FlagFile {
  $schema?: string;
  schema_version: 1;
  environments?: string[];
  segments?: Segment[];
  flags: Flag[];
}
"#;
