import type { EvaluationContext, JsonValue, Logger, OpenFeatureEventEmitter, Provider, ResolutionDetails, TrackingEventDetails } from "@openfeature/server-sdk";
import type { EdgeflagProviderOptions, EdgeflagProviderStatus } from "./options";

export type { EdgeflagProviderOptions as EdgeflagServerProviderOptions, EdgeflagProviderStatus, EdgeflagTrackingDetails, MetricsOptions } from "./options";

/** edgeflag for @openfeature/server-sdk (Node, workerd): local evaluation, dynamic context. */
export declare class EdgeflagServerProvider implements Provider {
  constructor(options: EdgeflagProviderOptions);
  readonly metadata: { name: "edgeflag" };
  readonly runsOn: "server";
  readonly events: OpenFeatureEventEmitter;
  hooks: [];
  initialize(context?: EvaluationContext): Promise<void>;
  onClose(): Promise<void>;
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext, logger?: Logger): Promise<ResolutionDetails<boolean>>;
  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext, logger?: Logger): Promise<ResolutionDetails<string>>;
  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext, logger?: Logger): Promise<ResolutionDetails<number>>;
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext, logger?: Logger): Promise<ResolutionDetails<T>>;
  track(trackingEventName: string, context: EvaluationContext, details: TrackingEventDetails): void;
  /** With `background: false`: one conditional fetch when due, and a flush of metric events. */
  refresh(): Promise<void>;
  flushMetrics(): Promise<void> | undefined;
  status(): EdgeflagProviderStatus;
}
