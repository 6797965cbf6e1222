/**
 * What the Lambdas record: log lines that name the execution and state and never quote a
 * credential, EMF metrics with exactly the dimension sets the alarms name, and an X-Ray
 * subsegment per Kling call. Powertools runs in dev mode here (vitest.config.ts), so its log
 * lines and, once enabled, its EMF records arrive on console.log.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { handler as diagnoseHandler } from "#lambdas/diagnose/handler";
import { KlingClient } from "#lambdas/kling/index";
import type { CreateTaskBody } from "#lambdas/kling/wire";
import { DIMENSION, METRIC, METRICS_NAMESPACE, POWERTOOLS_ENV } from "#lambdas/observability/catalog";
import { klingCallObserver, type SegmentTracer, type TraceSegment, type TraceSubsegment } from "#lambdas/observability/kling-calls";
import { logger, observed } from "#lambdas/observability/logger";
import {
  recordCreditsRemaining,
  recordGenerationFailed,
  recordGenerationSucceeded,
  recordKlingRequest,
} from "#lambdas/observability/metrics";
import { REDACTED, redactFromLogs } from "#lambdas/common/redaction";
import { DEV_API_KEY, startSimulator } from "#local/simulator/index";

const SERVICE = "Studio-Videos";

let printed: string[];

beforeEach(() => {
  printed = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    printed.push(args.map(String).join(" "));
  });
  vi.stubEnv(POWERTOOLS_ENV.serviceName, SERVICE);
  vi.stubEnv(POWERTOOLS_ENV.metricsNamespace, METRICS_NAMESPACE);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

const records = () => printed.map((line) => JSON.parse(line) as Record<string, unknown>);
const logLines = () => records().filter((record) => typeof record.message === "string");

describe("log lines", () => {
  it("carry the execution and state names the state machine put in the payload's logContext", async () => {
    const handler = observed(async () => logger().info("credits checked", { availableUnits: 10 }));
    await handler({ request: {}, logContext: { executionName: "job-0042", stateName: "CheckCredits" } });

    expect(logLines()).toEqual([
      expect.objectContaining({
        level: "INFO",
        message: "credits checked",
        service: SERVICE,
        executionName: "job-0042",
        stateName: "CheckCredits",
        availableUnits: 10,
      }),
    ]);
  });

  it("keep each invocation's names apart when invocations interleave in one process (the local runner)", async () => {
    const handler = observed(async (event) => {
      const { pause } = event as { pause: number };
      await new Promise((resolve) => setTimeout(resolve, pause));
      logger().info("video ready");
    });
    await Promise.all([
      handler({ pause: 30, logContext: { executionName: "slow-job", stateName: "Poll" } }),
      handler({ pause: 1, logContext: { executionName: "fast-job", stateName: "Poll" } }),
    ]);

    expect(logLines().map((line) => line.executionName)).toEqual(["fast-job", "slow-job"]);
  });

  it("of a Kling call made inside an invocation carry that invocation's names", async () => {
    const observer = klingCallObserver(() => disabledTracer);
    const handler = observed(async () => {
      observer.started("createTask")({ httpStatus: 429, klingCode: 1302, errorName: "Kling.RateLimited", requestId: "req-1" });
    });
    await handler({ logContext: { executionName: "job-7", stateName: "Submit" } });

    expect(logLines()).toEqual([
      expect.objectContaining({
        level: "WARN",
        executionName: "job-7",
        stateName: "Submit",
        operation: "createTask",
        httpStatus: 429,
        klingCode: 1302,
        errorName: "Kling.RateLimited",
      }),
    ]);
  });

  it("never quote a credential: not an Authorization header, a loaded secret, a bearer token nor a JWT", async () => {
    const secretKey = "kl-secret-key-99cc00dd11ee";
    const apiKey = "kl-api-key-5e4d3c2b1a0f";
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhayJ9.c2lnbmF0dXJl";
    redactFromLogs({ accessKey: "kl-access-key-77aa88bb", secretKey });
    redactFromLogs({ apiKey });

    const handler = observed(async () => {
      logger().error("Kling call refused", {
        request: { headers: { Authorization: `Bearer ${jwt}`, Accept: "application/json" } },
        answer: `invalid signature for ${secretKey} (token ${jwt})`,
        hint: `Bearer ${apiKey}`,
        apiKey,
        error: new Error(`could not sign with ${secretKey}`),
      });
    });
    await handler({ logContext: { executionName: "job-1", stateName: "Submit" } });

    const [line] = printed;
    expect(line).toBeDefined();
    for (const credential of [secretKey, apiKey, jwt, "kl-access-key-77aa88bb", "Bearer eyJ"]) {
      expect(line).not.toContain(credential);
    }
    expect(JSON.parse(line ?? "")).toMatchObject({
      request: { headers: { Authorization: REDACTED, Accept: "application/json" } },
      answer: `invalid signature for ${REDACTED} (token ${REDACTED})`,
      error: { message: `could not sign with ${REDACTED}` },
    });
  });

  it("and the Kling client redact with one module, which neither of them imports from the other", () => {
    const importsOf = (folder: string) =>
      readdirSync(path.join("lambdas", folder))
        .filter((file) => file.endsWith(".ts"))
        .flatMap((file) => [...readFileSync(path.join("lambdas", folder, file), "utf8").matchAll(/from "([^"]+)"/g)])
        .map(([, specifier]) => specifier);
    const logs = importsOf("observability");
    const client = importsOf("kling");
    expect(logs).toContain("../common/redaction");
    expect(client).toContain("../common/redaction");
    expect(logs.filter((specifier) => specifier.startsWith("../kling/") && !specifier.endsWith("/port"))).toEqual([]);
    expect(client.filter((specifier) => specifier.startsWith("../observability"))).toEqual([]);
  });
});

describe("metrics", () => {
  beforeEach(() => {
    // Dev mode turns metrics off; this is how they would print on Lambda.
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
  });

  interface EmfRecord {
    readonly _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    readonly [field: string]: unknown;
  }
  const emfRecords = () => records().filter((record): record is EmfRecord => "_aws" in record);
  const metricNames = () => emfRecords().flatMap((record) => record._aws.CloudWatchMetrics[0]?.Metrics.map((metric) => metric.Name) ?? []);

  it("GenerationsFailed is counted by errorCode and recoverable, and by recoverable alone (what the alarm reads)", () => {
    recordGenerationFailed({ errorCode: "Kling.ContentPolicy", recoverable: false });

    expect(metricNames()).toEqual([METRIC.generationsFailed]);
    const [failed] = emfRecords();
    expect(failed?._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRICS_NAMESPACE);
    expect(failed?._aws.CloudWatchMetrics[0]?.Dimensions.map((set) => [...set].sort())).toEqual([
      [DIMENSION.errorCode, DIMENSION.recoverable, DIMENSION.service].sort(),
      [DIMENSION.recoverable, DIMENSION.service].sort(),
    ]);
    expect(failed).toMatchObject({ service: SERVICE, errorCode: "Kling.ContentPolicy", recoverable: "false", GenerationsFailed: 1 });
  });

  it("a Kling request refused with a retried error counts as a request and as a retry by its error name", () => {
    recordKlingRequest("Kling.RateLimited");
    recordKlingRequest("Kling.InvalidRequest");
    recordKlingRequest(undefined);

    expect(metricNames()).toEqual([METRIC.klingRequests, METRIC.klingRetries, METRIC.klingRequests, METRIC.klingRequests]);
    expect(emfRecords()[1]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([[DIMENSION.service, DIMENSION.errorName]]);
    expect(emfRecords()[1]).toMatchObject({ errorName: "Kling.RateLimited", KlingRetries: 1 });
    expect(emfRecords()[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([[DIMENSION.service]]);
  });

  it("GenerationsSucceeded and CreditsRemaining are by service alone", () => {
    recordGenerationSucceeded();
    recordCreditsRemaining(8_500);

    expect(metricNames()).toEqual([METRIC.generationsSucceeded, METRIC.creditsRemaining]);
    for (const record of emfRecords()) expect(record._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([[DIMENSION.service]]);
    expect(emfRecords()[1]).toMatchObject({ service: SERVICE, CreditsRemaining: 8_500 });
  });

  it("Diagnose logs the diagnosis under the execution's name and counts the failure by errorCode and recoverable", async () => {
    await diagnoseHandler({
      jobId: "job-31",
      failure: { Submit: { Error: "Kling.ContentPolicy", Cause: "the prompt was refused" } },
      logContext: { executionName: "job-31", stateName: "Diagnose" },
    });

    expect(logLines()).toEqual([
      expect.objectContaining({
        level: "ERROR",
        message: "generation failed",
        executionName: "job-31",
        stateName: "Diagnose",
        diagnosis: expect.objectContaining({ errorCode: "Kling.ContentPolicy", failedState: "Submit" }),
      }),
    ]);
    expect(metricNames()).toEqual([METRIC.generationsFailed]);
    expect(emfRecords()[0]).toMatchObject({ errorCode: "Kling.ContentPolicy", recoverable: "false", GenerationsFailed: 1 });
  });

  it("print nothing in dev mode, as locally, unless enabled", () => {
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", undefined);
    recordGenerationFailed({ errorCode: "Kling.PollTimeout", recoverable: true });
    recordKlingRequest("Kling.ServerError");

    expect(emfRecords()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// A tracer that records subsegments, standing in for Powertools' Tracer (off outside Lambda).

interface RecordedSubsegment {
  readonly name: string;
  readonly annotations: Record<string, string | number | boolean>;
  readonly metadata: Record<string, unknown>;
  error: boolean;
  closed: boolean;
}

class RecordingTracer implements SegmentTracer {
  readonly subsegments: RecordedSubsegment[] = [];
  readonly root: TraceSegment = this.segment();
  current: TraceSegment = this.root;

  isTracingEnabled(): boolean {
    return true;
  }

  getSegment(): TraceSegment {
    return this.current;
  }

  setSegment(segment: TraceSegment): void {
    this.current = segment;
  }

  private segment(): TraceSegment {
    return {
      addNewSubsegment: (name: string): TraceSubsegment => {
        const recorded: RecordedSubsegment = { name, annotations: {}, metadata: {}, error: false, closed: false };
        this.subsegments.push(recorded);
        return {
          ...this.segment(),
          addAnnotation: (key, value) => void (recorded.annotations[key] = value),
          addMetadata: (key, value) => void (recorded.metadata[key] = value),
          addErrorFlag: () => void (recorded.error = true),
          close: () => void (recorded.closed = true),
        };
      },
    };
  }
}

const disabledTracer: SegmentTracer = {
  isTracingEnabled: () => false,
  getSegment: () => undefined,
  setSegment: () => undefined,
};

const CREATE_BODY: CreateTaskBody = { model_name: "kling-v2-6", prompt: "a lighthouse in a storm", mode: "std", duration: "5" };

describe("a Kling call", () => {
  it("is an X-Ray subsegment annotated with its HTTP status and Kling code, closed, and the parent segment current again", async () => {
    const simulator = await startSimulator({ scenario: "rate-limit" });
    try {
      const tracer = new RecordingTracer();
      const client = new KlingClient({
        baseUrl: simulator.baseUrl,
        credentials: { apiKey: DEV_API_KEY },
        observer: klingCallObserver(() => tracer),
      });
      await client.getResourcePacks({ startTime: 0, endTime: 1_000 });
      await expect(client.createTask("text2video", CREATE_BODY)).rejects.toThrow(/Too many requests/);

      expect(tracer.subsegments).toEqual([
        {
          name: "Kling getResourcePacks",
          annotations: { httpStatus: 200, klingCode: 0 },
          metadata: { kling: { operation: "getResourcePacks", requestId: undefined } },
          error: false,
          closed: true,
        },
        {
          name: "Kling createTask",
          annotations: { httpStatus: 429, klingCode: 1302, errorName: "Kling.RateLimited" },
          metadata: { kling: { operation: "createTask", requestId: expect.any(String) } },
          error: true,
          closed: true,
        },
      ]);
      expect(tracer.current).toBe(tracer.root);
    } finally {
      await simulator.close();
    }
  });
});
