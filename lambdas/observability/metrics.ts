/**
 * The pipeline's CloudWatch metrics, written as EMF records by Powertools Metrics (namespace and
 * service from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME).
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { isKlingErrorName, ERROR_KINDS } from "../errors";
import { CALLBACK_METRIC, DIMENSION, DIMENSION_SETS, METRIC, REDRIVE_METRIC } from "./catalog";

type Dimensions = Readonly<Record<string, string>>;
type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/**
 * One EMF record per count (without dimension sets, by `service` alone), flushed at once:
 * concurrent invocations (the local runner's) never mix dimensions, and none is lost when a
 * handler throws.
 */
function emit(metric: string, value: number, dimensionSets: readonly Dimensions[] = [], unit: Unit = MetricUnit.Count): void {
  const record = new Metrics({ singleMetric: true });
  for (const dimensions of dimensionSets) record.addDimensions({ ...dimensions });
  record.addMetric(metric, unit, value);
}

/** Picks the named dimensions' values, so each set is emitted exactly as the catalog declares it. */
function dimensionSet(names: readonly string[], values: Dimensions): Dimensions {
  return Object.fromEntries(names.map((name) => [name, values[name] ?? ""]));
}

export function recordGenerationSucceeded(): void {
  emit(METRIC.generationsSucceeded, 1);
}

export function recordGenerationFailed(diagnosis: { readonly errorCode: string; readonly recoverable: boolean }): void {
  const values = { [DIMENSION.errorCode]: diagnosis.errorCode, [DIMENSION.recoverable]: String(diagnosis.recoverable) };
  const { byErrorCode, byRecoverable } = DIMENSION_SETS.generationsFailed;
  emit(METRIC.generationsFailed, 1, [dimensionSet(byErrorCode, values), dimensionSet(byRecoverable, values)]);
}

export function recordCreditsRemaining(units: number): void {
  emit(METRIC.creditsRemaining, units);
}

/**
 * Every Kling request counts; one that failed with an error the state machine retries is also
 * a retry. Returns whether it was one.
 */
export function recordKlingRequest(errorName: string | undefined): boolean {
  emit(METRIC.klingRequests, 1);
  const retried = errorName !== undefined && isKlingErrorName(errorName) && ERROR_KINDS[errorName].retry !== "none";
  if (retried) emit(METRIC.klingRetries, 1, [dimensionSet(DIMENSION_SETS.klingRetries.byErrorName, { [DIMENSION.errorName]: errorName })]);
  return retried;
}

/** The account ledger as a wait or a release left it. */
export function recordSlotQueue(gauges: {
  readonly slotsInUse: number;
  readonly slotLimit: number;
  readonly queueLength: number;
  readonly oldestWaiterSeconds: number;
}): void {
  emit(METRIC.slotsInUse, gauges.slotsInUse);
  emit(METRIC.slotLimit, gauges.slotLimit);
  emit(METRIC.slotQueueLength, gauges.queueLength);
  emit(METRIC.oldestWaiterSeconds, gauges.oldestWaiterSeconds, [], MetricUnit.Seconds);
}

/** A generation sent back to the queue by Kling's refusal at Submit; with a 1303, the effective limit it lowered to. */
export function recordBackToQueue(errorName: string, loweredTo: number | undefined): void {
  emit(METRIC.slotRequeues, 1, [dimensionSet(DIMENSION_SETS.slotRequeues.byErrorName, { [DIMENSION.errorName]: errorName })]);
  if (loweredTo !== undefined) emit(METRIC.slotLimit, loweredTo);
}

export function recordTimeQueued(seconds: number): void {
  emit(METRIC.timeQueuedSeconds, seconds, [], MetricUnit.Seconds);
}

/** Why the callback route refused a call. */
export type CallbackRefusal = "capability-token" | "capability-token-expired" | "signature" | "body";

export function recordCallbackReceived(): void {
  emit(CALLBACK_METRIC.received, 1);
}

export function recordCallbackRefused(reason: CallbackRefusal): void {
  emit(CALLBACK_METRIC.refused, 1, [dimensionSet(DIMENSION_SETS.callbacksRefused.byReason, { [DIMENSION.reason]: reason })]);
}

export function recordCallbackConfirmed(): void {
  emit(CALLBACK_METRIC.confirmed, 1);
}

export function recordEndFoundByPoll(): void {
  emit(CALLBACK_METRIC.endsFoundByPoll, 1);
}

/** Emitted at every run, 0 included, so that the alarm sees the count fall back. */
export function recordGenerationsLeftFailed(count: number): void {
  emit(REDRIVE_METRIC.leftFailed, count);
}
