import type { EvaluationContext, JsonValue, Logger, OpenFeatureEventEmitter, Provider, ResolutionDetails, TrackingEventDetails } from "@openfeature/web-sdk";
import type { EdgeflagProviderOptions, EdgeflagProviderStatus } from "./options";

export type { EdgeflagProviderOptions as EdgeflagWebProviderOptions, EdgeflagProviderStatus, EdgeflagTrackingDetails, MetricsOptions } from "./options";

/** edgeflag for @openfeature/web-sdk: local, synchronous evaluation with the WASM engine. */
export declare class EdgeflagWebProvider implements Provider {
  constructor(options: EdgeflagProviderOptions);
  readonly metadata: { name: "edgeflag" };
  readonly runsOn: "client";
  readonly events: OpenFeatureEventEmitter;
  hooks: [];
  initialize(context?: EvaluationContext): Promise<void>;
  onClose(): Promise<void>;
  onContextChange(oldContext: EvaluationContext, newContext: EvaluationContext): Promise<void>;
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext, logger?: Logger): ResolutionDetails<boolean>;
  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext, logger?: Logger): ResolutionDetails<string>;
  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext, logger?: Logger): ResolutionDetails<number>;
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext, logger?: Logger): ResolutionDetails<T>;
  track(trackingEventName: string, context: EvaluationContext, details: TrackingEventDetails): void;
  /** Posts waiting metric events now (with keepalive: call it on `pagehide`). */
  flushMetrics(): Promise<void> | undefined;
  status(): EdgeflagProviderStatus;
}
