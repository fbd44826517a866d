// An engine answer as OpenFeature resolution details. The same rules as the Rust provider and
// the server's OFREP (`edgeflag_evaluator::openfeature`); providers/README.md, "How answers map":
//
// - an answer with a value is a success: value, variant, reason, flag metadata;
// - an answer without one is an error: reason ERROR, the error code and message, and the
//   caller's default value (the SDK returns it too);
// - a split that finds no unit (no targeting key) is not an error: the flag's default
//   variation, reason DEFAULT, `unitMissing: true` in the metadata;
// - metadata: flagSetVersion (when the flags came from the server), arm, experiment,
//   ruleIndex, unitMissing, each only when it applies.

/**
 * @param {object} result the engine's EvaluationResult
 * @param {*} defaultValue the caller's default
 * @param {number|null} flagSetVersion
 */
export function toResolution(result, defaultValue, flagSetVersion) {
  if (result.reason === "ERROR" || result.variant === null || result.variant === undefined) {
    return {
      value: defaultValue,
      reason: "ERROR",
      errorCode: result.errorCode ?? "GENERAL",
      errorMessage: result.errorMessage ?? result.errorCode ?? "GENERAL",
      flagMetadata: {},
    };
  }
  return { value: result.value, variant: result.variant, reason: result.reason, flagMetadata: metadata(result, flagSetVersion) };
}

export function metadata(result, flagSetVersion) {
  const m = {};
  if (flagSetVersion !== null && flagSetVersion !== undefined) m.flagSetVersion = flagSetVersion;
  if (result.arm) m.arm = result.arm;
  if (result.experiment) m.experiment = true;
  if (result.ruleIndex !== undefined && result.ruleIndex !== null) m.ruleIndex = result.ruleIndex;
  if (result.errorCode === "TARGETING_KEY_MISSING") m.unitMissing = true;
  return m;
}

/** A resolution for a failure outside the engine (an invalid context, say). */
export function failure(defaultValue, errorCode, errorMessage) {
  return { value: defaultValue, reason: "ERROR", errorCode, errorMessage, flagMetadata: {} };
}

/**
 * OpenFeature contexts may hold `Date`s (and `undefined`s); the engine reads JSON. Dates become
 * RFC 3339 strings (what the engine's date operators read); a plain JSON context passes as is.
 */
export function engineContext(context) {
  if (!context) return undefined;
  for (const k in context) {
    const v = context[k];
    if (v !== null && typeof v === "object") return JSON.parse(JSON.stringify(context));
    if (v === undefined) return JSON.parse(JSON.stringify(context));
  }
  return context;
}
