/**
 * `npm start -- redrive` and the scheduled redrive Lambda against a mocked Step Functions: what
 * each redrives, lists and refuses.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SFNClient,
  SFNServiceException,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { diagnose } from "#lambdas/diagnose/diagnosis";
import { runCommand } from "#local/cli/run-command";
import { SfnFailedExecutions } from "#lambdas/redrive/failed-executions";
import { redriveOnSchedule } from "#lambdas/redrive/handler";
import { parseSince, runRedriveCommand } from "#local/redrive/redrive-command";

const STATE_MACHINE_ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:Generation";
const NOW = new Date("2026-11-25T12:00:00Z");
const DAY_MS = 86_400_000;
const sfn = mockClient(SFNClient);

const arnOf = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:Generation:${name}`;
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS);

/** A diagnosed failure as the workflow records it: Error the name, Cause the diagnosis JSON. */
function diagnosed(name: string, error: string, failedState: string): Partial<DescribeExecutionCommandOutput> {
  return { name, error, cause: JSON.stringify(diagnose(name, failedState, { Error: error, Cause: "details" })), redriveStatus: "REDRIVABLE" };
}

interface Listed {
  readonly name: string;
  readonly startedDaysAgo: number;
  readonly described: Partial<DescribeExecutionCommandOutput>;
}

/** Serves these executions through ListExecutions (FAILED, TIMED_OUT or ABORTED, pages of `pageSize`) and DescribeExecution. */
function serve(executions: { FAILED?: Listed[]; TIMED_OUT?: Listed[]; ABORTED?: Listed[] }, pageSize = 100): void {
  for (const status of ["FAILED", "TIMED_OUT", "ABORTED"] as const) {
    const all = executions[status] ?? [];
    for (let start = 0; start < Math.max(all.length, 1); start += pageSize) {
      const page = all.slice(start, start + pageSize);
      const next = start + pageSize < all.length ? `token-${status}-${start + pageSize}` : undefined;
      sfn
        .on(ListExecutionsCommand, { stateMachineArn: STATE_MACHINE_ARN, statusFilter: status, nextToken: start === 0 ? undefined : `token-${status}-${start}` })
        .resolves({
          executions: page.map((e) => ({ executionArn: arnOf(e.name), stateMachineArn: STATE_MACHINE_ARN, name: e.name, status, startDate: daysAgo(e.startedDaysAgo) })),
          nextToken: next,
        });
    }
    for (const e of all) {
      sfn.on(DescribeExecutionCommand, { executionArn: arnOf(e.name) }).resolves({
        executionArn: arnOf(e.name),
        stateMachineArn: STATE_MACHINE_ARN,
        status,
        startDate: daysAgo(e.startedDaysAgo),
        ...e.described,
      });
    }
  }
}

async function run(argv: string[], env: NodeJS.ProcessEnv = { GENERATION_STATE_MACHINE_ARN: STATE_MACHINE_ARN }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runRedriveCommand(
    argv,
    env,
    { out: (line) => out.push(line), err: (line) => err.push(line) },
    (arn) => new SfnFailedExecutions(new SFNClient({ region: "eu-west-1" }), arn),
    NOW,
  );
  return { code, out, err };
}

const redriven = () => sfn.commandCalls(RedriveExecutionCommand).map((call) => call.args[0].input.executionArn);

/** The request Validate handed on, as GetExecutionHistory shows its TaskStateExited event. */
const VALIDATED_REQUEST = { prompt: "a corgi surfing", model: "kling-v2-6", mode: "pro", duration: "10", aspectRatio: "16:9" };
function historyWithValidateOutput(request: unknown = VALIDATED_REQUEST) {
  const at = new Date(NOW.getTime() - DAY_MS);
  return {
    events: [
      { id: 1, timestamp: at, type: "ExecutionStarted" as const },
      { id: 2, timestamp: at, type: "TaskStateEntered" as const, stateEnteredEventDetails: { name: "Validate" } },
      {
        id: 3,
        timestamp: at,
        type: "TaskStateExited" as const,
        stateExitedEventDetails: { name: "Validate", output: JSON.stringify({ jobId: "job", request, kind: "text2video" }) },
      },
    ],
  };
}

beforeEach(() => {
  sfn.reset();
  sfn.on(RedriveExecutionCommand).resolves({ redriveDate: NOW });
  sfn.on(GetExecutionHistoryCommand).resolves(historyWithValidateOutput());
});

describe("npm start -- redrive", () => {
  const mixed = {
    FAILED: [
      { name: "poll-timeout", startedDaysAgo: 1, described: diagnosed("poll-timeout", "Kling.PollTimeout", "Poll") },
      { name: "content-policy", startedDaysAgo: 2, described: diagnosed("content-policy", "Kling.ContentPolicy", "Submit") },
      { name: "no-credits", startedDaysAgo: 3, described: diagnosed("no-credits", "Kling.InsufficientCredits", "CheckCredits") },
      {
        name: "too-many-events",
        startedDaysAgo: 4,
        described: { ...diagnosed("too-many-events", "Kling.ServerError", "Submit"), redriveStatus: "NOT_REDRIVABLE", redriveStatusReason: "Execution history event limit exceeded" },
      },
    ],
    // DescribeExecution may give a timed-out execution no Error at all.
    TIMED_OUT: [{ name: "timed-out", startedDaysAgo: 1, described: { name: "timed-out", redriveStatus: "REDRIVABLE" } }],
  } satisfies { FAILED: Listed[]; TIMED_OUT: Listed[] };

  it("redrive picks exactly the recoverable executions", async () => {
    serve(mixed);
    const { code, out } = await run([]);
    expect(code).toBe(0);
    expect(redriven().sort()).toEqual([arnOf("no-credits"), arnOf("poll-timeout"), arnOf("timed-out")].sort());
    expect(out.find((line) => line.includes("content-policy"))).toMatch(/unrecoverable .*Kling\.ContentPolicy at Submit: change-prompt: .*change the prompt/);
    expect(out.find((line) => line.includes("too-many-events"))).toMatch(/not redrivable .*Execution history event limit exceeded/);
    expect(out.at(-1)).toBe("3 redriven, 1 unrecoverable, 1 not redrivable");
  });

  it("with --dry-run lists the same decisions and redrives nothing", async () => {
    serve(mixed);
    const { code, out } = await run(["--dry-run"]);
    expect(code).toBe(0);
    expect(redriven()).toEqual([]);
    expect(out.filter((line) => line.includes("would redrive"))).toHaveLength(3);
    expect(out.at(-1)).toBe("3 would be redriven, 1 unrecoverable, 1 not redrivable");
  });

  it("follows every page, and stops at the first execution started before --since", async () => {
    const recoverable = (index: number, startedDaysAgo: number): Listed => ({
      name: `job-${index}`,
      startedDaysAgo,
      described: diagnosed(`job-${index}`, "Kling.GenerationFailed", "Poll"),
    });
    serve({ FAILED: [recoverable(1, 0.5), recoverable(2, 1), recoverable(3, 1.5), recoverable(4, 2.5), recoverable(5, 3)] }, 2);
    const { out } = await run(["--since", "2d"]);
    expect(redriven()).toEqual([arnOf("job-1"), arnOf("job-2"), arnOf("job-3")]);
    expect(sfn.commandCalls(ListExecutionsCommand).filter((call) => call.args[0].input.statusFilter === "FAILED")).toHaveLength(2);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(3);
    expect(out[0]).toContain(daysAgo(2).toISOString());
  });

  it("redrives a stopped (ABORTED) execution as AWS allows, never reading what the stop gave as an error name", async () => {
    serve({
      ABORTED: [
        // StopExecution's error and cause are free text, or absent.
        { name: "stopped-by-hand", startedDaysAgo: 1, described: { name: "stopped-by-hand", error: "Kling.ContentPolicy", cause: "stopped while we rotate keys", redriveStatus: "REDRIVABLE" } },
        { name: "stopped-silently", startedDaysAgo: 1, described: { name: "stopped-silently", redriveStatus: "REDRIVABLE" } },
        {
          name: "stopped-long-ago",
          startedDaysAgo: 2,
          described: { name: "stopped-long-ago", redriveStatus: "NOT_REDRIVABLE", redriveStatusReason: "Execution redrivable period exceeded" },
        },
      ],
    });
    const { code, out } = await run([]);
    expect(code).toBe(0);
    expect(sfn.commandCalls(ListExecutionsCommand).map((call) => call.args[0].input.statusFilter)).toContain("ABORTED");
    expect(redriven()).toEqual([arnOf("stopped-by-hand"), arnOf("stopped-silently")]);
    expect(out.find((line) => line.includes("stopped-by-hand"))).toMatch(/redriven .*ABORTED Execution\.Stopped/);
    expect(out.find((line) => line.includes("stopped-long-ago"))).toMatch(/not redrivable .*Execution redrivable period exceeded/);
  });

  it("lists an execution Step Functions refuses to redrive with its reason, and goes on", async () => {
    serve({ FAILED: [mixed.FAILED[0] as Listed, mixed.FAILED[2] as Listed] });
    sfn
      .on(RedriveExecutionCommand, { executionArn: arnOf("poll-timeout") })
      .rejects(new ExecutionNotRedrivable({ message: "Execution is RUNNING and cannot be redriven", $metadata: {} }));
    const { code, out } = await run([]);
    expect(code).toBe(0);
    expect(out.find((line) => line.includes("poll-timeout"))).toMatch(/not redrivable .*Execution is RUNNING and cannot be redriven/);
    expect(redriven()).toEqual([arnOf("poll-timeout"), arnOf("no-credits")]);
    expect(out.at(-1)).toBe("1 redriven, 0 unrecoverable, 1 not redrivable");
  });

  it("prints the price of the new task a failed generation's redrive pays for, before redriving it", async () => {
    serve({ FAILED: [{ name: "failed-video", startedDaysAgo: 1, described: diagnosed("failed-video", "Kling.GenerationFailed", "Poll") }] });
    const out: string[] = [];
    sfn.on(RedriveExecutionCommand).callsFake(() => {
      out.push("<RedriveExecution>");
      return { redriveDate: NOW };
    });
    const code = await runRedriveCommand([], { GENERATION_STATE_MACHINE_ARN: STATE_MACHINE_ARN }, { out: (line) => out.push(line), err: () => undefined }, (arn) => new SfnFailedExecutions(new SFNClient({ region: "eu-west-1" }), arn), NOW);
    expect(code).toBe(0);
    // kling-v2-6 pro: 0.5 units a second, 10 s (lambdas/schemas/pricing.ts).
    const priceLine = out.findIndex((line) => /new task .*failed-video .*a redrive creates a new Kling task: 5 units \(kling-v2-6 pro, 10 s\)/.test(line));
    expect(priceLine).toBeGreaterThan(0);
    expect(out.indexOf("<RedriveExecution>")).toBeGreaterThan(priceLine);
    expect(redriven()).toEqual([arnOf("failed-video")]);
  });

  it("leaves a failed generation whose request cannot be read to price its new task to the operator, redriving nothing", async () => {
    serve({ FAILED: [{ name: "failed-video", startedDaysAgo: 1, described: diagnosed("failed-video", "Kling.GenerationFailed", "Poll") }] });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
    const { code, out } = await run([]);
    expect(code).toBe(0);
    expect(redriven()).toEqual([]);
    expect(out.find((line) => line.includes("failed-video"))).toMatch(/needs operator .*cannot be read to price it/);
    expect(out.at(-1)).toBe("0 redriven, 0 unrecoverable, 0 not redrivable, 1 left to an operator");
  });

  it("takes the state machine from --state-machine-arn before the environment", async () => {
    const other = "arn:aws:states:us-east-1:123456789012:stateMachine:Other";
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    const { code } = await run(["--state-machine-arn", other]);
    expect(code).toBe(0);
    expect(sfn.commandCalls(ListExecutionsCommand).map((call) => call.args[0].input.stateMachineArn)).toEqual([other, other, other]);
  });

  describe("errors: one line and a non-zero exit, never a stack trace", () => {
    it.each([
      ["a bad --since", ["--since", "7 days"], /^error: --since must be a duration like 30m, 12h or 7d, got "7 days" \(npm start -- redrive --help shows the options\)$/],
      ["a zero --since", ["--since", "0d"], /^error: --since must be a duration/],
      ["an unknown option", ["--force"], /^error: Unknown option '--force'/],
      ["a bad ARN", ["--state-machine-arn", "arn:aws:lambda:eu-west-1:123456789012:function:f"], /^error: "arn:aws:lambda.*" is not a state machine ARN/],
    ])("%s is a usage error (exit 2)", async (_, argv, message) => {
      const { code, err } = await run(argv);
      expect(code).toBe(2);
      expect(err[0]).toMatch(message);
      expect(redriven()).toEqual([]);
    });

    it("a missing state machine ARN says where to get one", async () => {
      const { code, err } = await run([], {});
      expect(code).toBe(2);
      expect(err[0]).toMatch(/^error: no state machine: give --state-machine-arn or set GENERATION_STATE_MACHINE_ARN \(the stack's GenerationStateMachineArn output\)/);
    });

    it("an AWS error ends the run with its name and message (exit 1)", async () => {
      sfn.on(ListExecutionsCommand).rejects(
        new SFNServiceException({ name: "AccessDeniedException", $fault: "client", $metadata: {}, message: "User is not authorized to perform: states:ListExecutions\nmore" }),
      );
      const { code, err } = await run([]);
      expect(code).toBe(1);
      expect(err).toEqual(["error: AccessDeniedException: User is not authorized to perform: states:ListExecutions"]);
    });
  });
});

describe("npm start -- redrive --json, as every other command's --json: one JSON object on stdout, nothing on stderr", () => {
  it("the run is one object: each execution's outcome, the new task's price where a redrive pays one, and the tally", async () => {
    serve({
      FAILED: [
        { name: "poll-timeout", startedDaysAgo: 1, described: diagnosed("poll-timeout", "Kling.PollTimeout", "Poll") },
        { name: "content-policy", startedDaysAgo: 2, described: diagnosed("content-policy", "Kling.ContentPolicy", "Submit") },
        { name: "failed-video", startedDaysAgo: 3, described: diagnosed("failed-video", "Kling.GenerationFailed", "Poll") },
      ],
    });
    const { code, out, err } = await run(["--json", "--dry-run"]);
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0] ?? "")).toEqual({
      since: daysAgo(7).toISOString(),
      dryRun: true,
      executions: [
        { name: "poll-timeout", status: "FAILED", result: "would-redrive", errorCode: "Kling.PollTimeout", failedState: "Poll", action: expect.any(String) },
        {
          name: "content-policy",
          status: "FAILED",
          result: "unrecoverable",
          errorCode: "Kling.ContentPolicy",
          failedState: "Submit",
          action: "change-prompt",
          suggestion: expect.stringMatching(/change the prompt/),
        },
        {
          name: "failed-video",
          status: "FAILED",
          result: "would-redrive",
          errorCode: "Kling.GenerationFailed",
          failedState: "Poll",
          action: expect.any(String),
          newTask: "5 units (kling-v2-6 pro, 10 s)",
        },
      ],
      tally: { redriven: 0, "would-redrive": 2, "needs-operator": 0, unrecoverable: 1, "not-redrivable": 0 },
    });
  });

  it.each([
    ["a usage mistake", ["--since", "soon"], {}, 2, /^--since must be a duration/],
    ["no state machine", [], {}, 2, /^no state machine: give --state-machine-arn/],
  ])("%s is one object with an error (exit 2)", async (_, argv, env, exitCode, message) => {
    const { code, out, err } = await run(["--json", ...argv], env);
    expect(code).toBe(exitCode);
    expect(err).toEqual([]);
    expect(out.map((line) => JSON.parse(line) as unknown)).toEqual([{ error: expect.stringMatching(message), exitCode }]);
  });

  it("an AWS error is one object with an error (exit 1)", async () => {
    sfn.on(ListExecutionsCommand).rejects(new SFNServiceException({ name: "AccessDeniedException", $fault: "client", $metadata: {}, message: "User is not authorized" }));
    const { code, out, err } = await run(["--json"]);
    expect(code).toBe(1);
    expect(err).toEqual([]);
    expect(out.map((line) => JSON.parse(line) as unknown)).toEqual([{ error: "AccessDeniedException: User is not authorized", exitCode: 1 }]);
  });

  it("a usage mistake without --json is one line, as for every other command", async () => {
    const { code, out, err } = await run(["--since", "soon"]);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual(['error: --since must be a duration like 30m, 12h or 7d, got "soon" (npm start -- redrive --help shows the options)']);
  });
});

describe("npm start", () => {
  it("hands `redrive` and its options to the redrive command", async () => {
    const err: string[] = [];
    const code = await runCommand(["redrive", "--since", "soon"], {}, { out: () => undefined, err: (line) => err.push(line) });
    expect(code).toBe(2);
    expect(err[0]).toMatch(/^error: --since must be a duration like 30m, 12h or 7d, got "soon"/);
  });
});

describe("parseSince", () => {
  it("reads minutes, hours and days", () => {
    expect(parseSince("30m")).toBe(30 * 60_000);
    expect(parseSince("12h")).toBe(12 * 3_600_000);
    expect(parseSince("7d")).toBe(7 * DAY_MS);
  });
});

describe("the scheduled redrive Lambda", () => {
  const scheduledExecutions = () => new SfnFailedExecutions(new SFNClient({ region: "eu-west-1" }), STATE_MACHINE_ARN);

  beforeEach(() => {
    vi.stubEnv("GENERATION_STATE_MACHINE_ARN", STATE_MACHINE_ARN);
    vi.useFakeTimers({ now: NOW, toFake: ["Date"] });
    vi.spyOn(console, "log").mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("redrives only what needs no one: credentials and credits wait for an operator", async () => {
    serve({
      FAILED: [
        { name: "kling-down", startedDaysAgo: 0.5, described: diagnosed("kling-down", "Kling.ServerError", "Submit") },
        { name: "no-credits", startedDaysAgo: 0.5, described: diagnosed("no-credits", "Kling.InsufficientCredits", "CheckCredits") },
        { name: "bad-key", startedDaysAgo: 0.5, described: diagnosed("bad-key", "Kling.AuthFailed", "CheckCredits") },
        { name: "refused", startedDaysAgo: 0.5, described: diagnosed("refused", "Kling.ContentPolicy", "Submit") },
        { name: "too-old", startedDaysAgo: 3, described: diagnosed("too-old", "Kling.ServerError", "Submit") },
      ],
    });
    const tally = await redriveOnSchedule({ lookBackHours: 48, maxRedrives: 2 }, scheduledExecutions());
    expect(redriven()).toEqual([arnOf("kling-down")]);
    expect(tally).toEqual({ redriven: 1, "would-redrive": 0, "needs-operator": 2, unrecoverable: 1, "not-redrivable": 0, leftFailed: 0 });
  });

  it("never redrives a failed generation, whose redrive pays for a new task: it waits for an operator", async () => {
    serve({ FAILED: [{ name: "failed-video", startedDaysAgo: 0.5, described: diagnosed("failed-video", "Kling.GenerationFailed", "Poll") }] });
    const tally = await redriveOnSchedule({ lookBackHours: 48, maxRedrives: 2 }, scheduledExecutions());
    expect(redriven()).toEqual([]);
    expect(tally).toMatchObject({ redriven: 0, "needs-operator": 1 });
  });

  it("redrives a failure that passes by itself while the execution has had fewer than maxRedrives redrives", async () => {
    const pollTimeout = (name: string, redriveCount: number): Listed => ({
      name,
      startedDaysAgo: 0.5,
      described: { ...diagnosed(name, "Kling.PollTimeout", "Poll"), redriveCount },
    });
    serve({ FAILED: [pollTimeout("never", 0), pollTimeout("once", 1), pollTimeout("twice", 2), pollTimeout("often", 5)] });
    const tally = await redriveOnSchedule({ lookBackHours: 48, maxRedrives: 2 }, scheduledExecutions());
    expect(redriven()).toEqual([arnOf("never"), arnOf("once")]);
    expect(tally).toMatchObject({ redriven: 2, "needs-operator": 2 });
  });

  it("redrives the failures after Kling has charged: a poll or download timeout, a timed-out execution, Lambda faults after Submit", async () => {
    const failedAt = (name: string, error: string, failedState: string): Listed => ({ name, startedDaysAgo: 0.2, described: diagnosed(name, error, failedState) });
    serve({
      FAILED: [
        failedAt("late-video", "Kling.PollTimeout", "Poll"),
        failedAt("cdn-broke-off", "Archive.DownloadFailed", "Archive"),
        failedAt("archive-stopped", "Sandbox.Timedout", "Archive"),
        failedAt("lambda-down", "Lambda.ServiceException", "Poll"),
        failedAt("lambda-lost", "Lambda.Unknown", "WaitForVideo"),
      ],
      // Timed out, as Step Functions ends it: no diagnosis of its own, only the status.
      TIMED_OUT: [{ name: "timed-out", startedDaysAgo: 0.3, described: { name: "timed-out", redriveStatus: "REDRIVABLE" } }],
    });
    const tally = await redriveOnSchedule({ lookBackHours: 48, maxRedrives: 2 }, scheduledExecutions());
    expect(redriven()).toEqual(["late-video", "cdn-broke-off", "archive-stopped", "lambda-down", "lambda-lost", "timed-out"].map(arnOf));
    expect(tally).toMatchObject({ redriven: 6, "needs-operator": 0, leftFailed: 0 });
  });

  it("counts, logs and emits as GenerationsLeftFailed each failure after payment still failed after its last redrive, or not redrivable", async () => {
    const printed: string[] = [];
    vi.stubEnv("POWERTOOLS_DEV", "true");
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
    vi.stubEnv("POWERTOOLS_METRICS_NAMESPACE", "KlingPipeline");
    vi.mocked(console.log).mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(" ")));
    const spent = (name: string, error: string, failedState: string, redriveCount: number): Listed => ({
      name,
      startedDaysAgo: 0.5,
      described: { ...diagnosed(name, error, failedState), redriveCount },
    });
    serve({
      FAILED: [
        spent("late-twice", "Kling.PollTimeout", "Poll", 2),
        spent("cdn-thrice", "Archive.DownloadFailed", "Archive", 3),
        spent("late-once", "Kling.PollTimeout", "Poll", 1),
        // Waits for an operator anyway: not the schedule's to redrive, so not left failed by it.
        spent("bad-key", "Kling.AuthFailed", "Poll", 2),
        { name: "too-long", startedDaysAgo: 0.5, described: { ...diagnosed("too-long", "Kling.PollTimeout", "Poll"), redriveStatus: "NOT_REDRIVABLE", redriveStatusReason: "Execution history event limit exceeded." } },
      ],
    });
    const tally = await redriveOnSchedule({ lookBackHours: 48, maxRedrives: 2 }, scheduledExecutions());
    expect(redriven()).toEqual([arnOf("late-once")]);
    expect(tally).toMatchObject({ redriven: 1, "needs-operator": 3, "not-redrivable": 1, leftFailed: 3 });
    const records = printed.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((record) => record.message === "generation still failed after its last scheduled redrive").map((record) => record.execution)).toEqual([
      "late-twice",
      "cdn-thrice",
      "too-long",
    ]);
    expect(records.filter((record) => "GenerationsLeftFailed" in record).map((record) => record.GenerationsLeftFailed)).toEqual([3]);
  });

  it("leaves a stopped (ABORTED) execution to an operator: someone stopped it on purpose", async () => {
    serve({ ABORTED: [{ name: "stopped", startedDaysAgo: 0.5, described: { name: "stopped", redriveStatus: "REDRIVABLE" } }] });
    const tally = await redriveOnSchedule({ lookBackHours: 48, maxRedrives: 2 }, scheduledExecutions());
    expect(redriven()).toEqual([]);
    expect(tally).toMatchObject({ redriven: 0, "needs-operator": 1, unrecoverable: 0 });
  });

  it("refuses an event without its look-back, naming it", async () => {
    await expect(redriveOnSchedule({ maxRedrives: 2 }, scheduledExecutions())).rejects.toThrow(/lookBackHours/);
    expect(redriven()).toEqual([]);
  });
});
