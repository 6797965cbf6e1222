/**
 * What the Lambdas record of each HTTP request to Kling: an X-Ray subsegment annotated with the
 * HTTP status and Kling's code, the KlingRequests / KlingRetries metrics, and a log line.
 */
import { performance } from "node:perf_hooks";
import { Tracer } from "@aws-lambda-powertools/tracer";
import type { KlingCallObserver, KlingCallOutcome, KlingOperation } from "../kling/port";
import { logger } from "./logger";
import { recordKlingRequest } from "./metrics";

/** The part of an X-Ray (sub)segment a Kling call uses. */
export interface TraceSegment {
  addNewSubsegment(name: string): TraceSubsegment;
}

export interface TraceSubsegment extends TraceSegment {
  addAnnotation(key: string, value: string | number | boolean): void;
  addMetadata(key: string, value: unknown): void;
  addErrorFlag(): void;
  close(): void;
}

/** The part of Powertools' Tracer a Kling call uses: a port, so tests can see the subsegments. */
export interface SegmentTracer {
  isTracingEnabled(): boolean;
  getSegment(): TraceSegment | undefined;
  setSegment(segment: TraceSegment): void;
}

let pipelineTracer: Tracer | undefined;

/** Made on first use; off outside Lambda (Powertools checks the environment), so never locally. */
function powertoolsTracer(): SegmentTracer {
  pipelineTracer ??= new Tracer();
  return pipelineTracer;
}

function annotate(subsegment: TraceSubsegment, operation: KlingOperation, outcome: KlingCallOutcome): void {
  if (outcome.httpStatus !== undefined) subsegment.addAnnotation("httpStatus", outcome.httpStatus);
  if (outcome.klingCode !== undefined) subsegment.addAnnotation("klingCode", outcome.klingCode);
  if (outcome.errorName !== undefined) {
    subsegment.addAnnotation("errorName", outcome.errorName);
    subsegment.addErrorFlag();
  }
  subsegment.addMetadata("kling", { operation, requestId: outcome.requestId });
}

/** Opens a subsegment named after the operation, made current while the request runs. */
function openSubsegment(tracer: SegmentTracer, operation: KlingOperation) {
  const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
  if (!parent) return undefined;
  const subsegment = parent.addNewSubsegment(`Kling ${operation}`);
  tracer.setSegment(subsegment);
  return { parent, subsegment };
}

export function klingCallObserver(tracer: () => SegmentTracer = powertoolsTracer): KlingCallObserver {
  return {
    started(operation) {
      const startedAt = performance.now();
      const traced = openSubsegment(tracer(), operation);
      return (outcome) => {
        if (traced) {
          annotate(traced.subsegment, operation, outcome);
          traced.subsegment.close();
          tracer().setSegment(traced.parent);
        }
        const retried = recordKlingRequest(outcome.errorName);
        const fields = { operation, ...outcome, durationMs: Math.round(performance.now() - startedAt) };
        if (retried) logger().warn("Kling call failed; the state machine retries it", fields);
        // Other refusals are answers the handler expects (a lookup's "not found") or Diagnose reports.
        else if (outcome.errorName !== undefined) logger().info("Kling call refused", fields);
        else logger().debug("Kling call", fields);
      };
    },
  };
}
