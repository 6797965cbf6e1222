/**
 * The time budget: synthesis refuses an execution timeout a generation could reach after Submit
 * (once Kling has charged), counting the states as the template declares them, and the defaults
 * fit with room to spare.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { resolvePipelineConfig } from "#lib/pipeline-config";
import { KlingPipelineStack } from "#lib/pipeline-stack";
import { GENERATION_STATE_RETRIES, RETRY_POLICIES } from "#lib/retry-policies";
import { generationWorstCase } from "#lib/time-budget";
import { type CloudFormationTemplate, definitionFromTemplate, type StateMachineDefinition } from "#local/runner/definition";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";

const totalSeconds = (config: Parameters<typeof resolvePipelineConfig>[0]) =>
  generationWorstCase(resolvePipelineConfig(config)).reduce((sum, part) => sum + part.seconds, 0);

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
}

let template: CloudFormationTemplate;
let definition: StateMachineDefinition;
let functionIds: Record<string, string>;

beforeAll(() => {
  const synthesized = synthesizePipeline();
  template = synthesized.template;
  const { pipeline } = synthesized.stack;
  definition = definitionFromTemplate(template, logicalIdOf(synthesized.stack, pipeline.generation.stateMachine));
  functionIds = Object.fromEntries(Object.entries(pipeline.functions).map(([name, fn]) => [name, logicalIdOf(synthesized.stack, fn)]));
});

describe("an execution timeout a generation could reach after Submit", () => {
  it("stops `cdk synth -c executionTimeoutMinutes=60` with one message naming it and the settings that do not fit, no stack trace", () => {
    // The app as `cdk synth` runs it: the CLI hands it the context in CDK_CONTEXT_JSON.
    const outdir = mkdtempSync(join(tmpdir(), "kling-budget-"));
    const run = spawnSync("npx", ["tsx", "bin/kling-pipeline.ts"], {
      encoding: "utf8",
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ executionTimeoutMinutes: "60" }), CDK_OUTDIR: outdir },
      timeout: 120_000,
    });
    rmSync(outdir, { recursive: true, force: true });
    expect(run.status).toBe(1);
    const message = run.stderr.trim();
    expect(message).toMatch(/^kling-pipeline configuration is not valid: executionTimeoutMinutes \(60 min = 3600 s\) is shorter than the longest a generation can take \(\d+ s: /);
    for (const setting of ["slotQueue.deadlineSeconds", "pollSchedule.deadlineSeconds", "klingRequestTimeoutMs", "Archive"]) expect(message).toContain(setting);
    expect(message).not.toMatch(/\n\s+at /);
  }, 150_000);

  it("is refused by the project's stack reading context, and by the construct's props", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [], executionTimeoutMinutes: "60" } });
    expect(() => new KlingPipelineStack(app, "KlingPipeline")).toThrow("executionTimeoutMinutes (60 min = 3600 s) is shorter than the longest a generation can take");
    expect(() => resolvePipelineConfig({ pollSchedule: { firstPollShare: 0.85, intervalShare: 0.05, minSeconds: 5, maxSeconds: 60, deadlineSeconds: 10_000 } })).toThrow(
      /executionTimeoutMinutes \(450 min = 27000 s\) is shorter .* or lower .*pollSchedule\.deadlineSeconds/,
    );
    // The queue deadline as well: a long wait for a slot leaves less time after Submit.
    expect(() => resolvePipelineConfig({ slotQueue: { parkSeconds: 900, deadlineSeconds: 10_000 } })).toThrow(/slotQueue\.deadlineSeconds/);
  });

  it("fits exactly the worst case and no less: the minutes it asks for are enough", () => {
    const worst = totalSeconds({ executionTimeoutMinutes: 100_000 });
    const enough = Math.ceil(worst / 60);
    expect(resolvePipelineConfig({ executionTimeoutMinutes: enough }).executionTimeoutMinutes).toBe(enough);
    expect(() => resolvePipelineConfig({ executionTimeoutMinutes: enough - 1 })).toThrow(`raise executionTimeoutMinutes to at least ${enough}`);
  });

  it("is never the default: the default timeout leaves more than a fifth of it spare", () => {
    const { executionTimeoutMinutes } = resolvePipelineConfig();
    expect(definition.TimeoutSeconds).toBe(executionTimeoutMinutes * 60);
    expect(totalSeconds({})).toBeLessThan(0.8 * executionTimeoutMinutes * 60);
    // With callbacks off WaitForVideo is a Wait state, which cannot fault: shorter still.
    expect(totalSeconds({ callbacks: { enabled: false } })).toBeLessThan(totalSeconds({}));
  });
});

describe("the worst case", () => {
  /** The errors of Kling's own answers: an attempt they end lasts no longer than the Kling calls before them. */
  const klingAnswers = new Set<string>([...RETRY_POLICIES.rateLimited.errors, ...RETRY_POLICIES.concurrencyLimited.errors, ...RETRY_POLICIES.serverError.errors]);
  /**
   * A Task at its longest, read from the template alone: its Retry blocks and its function's
   * Timeout; an attempt a retrier of Kling's answers takes, at most `klingAttemptSeconds`.
   */
  const fromTemplate = (stateName: string, functionName: string, klingAttemptSeconds?: number) => {
    const state = definition.States[stateName];
    const retriers = (state?.Retry ?? []) as (Retrier & { ErrorEquals: string[] })[];
    const fn = template.Resources[functionIds[functionName] ?? ""];
    const timeout = (fn?.Properties as { Timeout: number }).Timeout;
    let seconds = timeout;
    for (const { ErrorEquals, IntervalSeconds = 1, MaxAttempts = 3, BackoffRate = 2, MaxDelaySeconds = Number.POSITIVE_INFINITY } of retriers) {
      const attempt = ErrorEquals.every((name) => klingAnswers.has(name)) ? Math.min(klingAttemptSeconds ?? timeout, timeout) : timeout;
      for (let retry = 0; retry < MaxAttempts; retry++) seconds += attempt + Math.min(IntervalSeconds * BackoffRate ** retry, MaxDelaySeconds);
    }
    return seconds;
  };

  it("counts each Task's every retry at its function's timeout, as the template declares them (Archive's retries of Kling's answers at one Kling call)", () => {
    const parts = Object.fromEntries(generationWorstCase(resolvePipelineConfig()).map((part) => [part.state, part.seconds]));
    const klingCall = (template.Resources[functionIds["check-credits"] ?? ""]?.Properties as { Timeout: number }).Timeout;
    expect(parts.Archive).toBe(fromTemplate("Archive", "archive", klingCall));
    expect(parts.Submit).toBe(fromTemplate("Submit", "submit"));
    expect(parts.CheckCredits).toBe(fromTemplate("CheckCredits", "check-credits"));
    expect(parts.ReleaseSlot).toBe(fromTemplate("ReleaseSlot", "release-slot"));
    expect(parts.Diagnose).toBe(fromTemplate("Diagnose", "diagnose"));
    // Archive after a long queue and a late video: 13 attempts of 10 minutes, more than the old 90-minute timeout alone.
    expect(parts.Archive).toBeGreaterThan(90 * 60);
  });

  it("reads the retry table the workflow applies: every Task's Retry blocks are the table's policies, in order", () => {
    for (const [stateName, policies] of Object.entries(GENERATION_STATE_RETRIES)) {
      const retriers = (definition.States[stateName]?.Retry ?? []) as Retrier[];
      // WaitForSlot's and BackToQueue's first retrier is their park's own (States.Timeout), which the budget counts apart.
      const declared = stateName === "WaitForSlot" || stateName === "BackToQueue" ? retriers.slice(1) : retriers;
      expect(declared.map((retrier) => retrier.MaxAttempts), stateName).toEqual(policies.map((name) => RETRY_POLICIES[name].maxAttempts));
    }
  });
});
