/**
 * The local command as a person runs it, as a child process: the trace, the live status,
 * the exit codes, one line (or one JSON object) for every mistake, Ctrl-C, and the history
 * of runs that a later command finds. Each test has a state directory of its own.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchStatus } from "#local/cli/batch-command";
import { generationStatus } from "#local/cli/generate-command";
import { GenerationProgress } from "#local/cli/progress";
import { type LocalSession, startLocalSession } from "#local/runner/session";
import { TraceFormatter } from "#local/runner/trace";
import { DEV_API_KEY, startSimulator } from "#local/simulator/index";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SHARED_PLAN_CACHE = mkdtempSync(join(tmpdir(), "kling-plan-cache-"));
afterAll(() => rmSync(SHARED_PLAN_CACHE, { recursive: true, force: true }));

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Child {
  readonly finished: Promise<Finished>;
  /** Resolves with stdout so far once a line of it matches. */
  readonly printed: (pattern: RegExp) => Promise<string>;
  readonly interrupt: () => void;
  /** Closes the reading end of stdout, as `| head -1` does once it has its line. */
  readonly closeStdout: () => void;
}

/** The environment of a person with no Kling, AWS or state settings, and this test's state directory. */
function cleanEnv(stateDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(AWS_|KLING)/.test(name)) env[name] = value;
  }
  // One kept plan for the file's runs, each with a state of its own: the stack is synthesized once, not per run.
  return { ...env, KLING_PIPELINE_STATE_DIR: stateDir, KLING_PIPELINE_CACHE_DIR: SHARED_PLAN_CACHE, ...extra };
}

/** `npm start -- …argv`, as package.json runs it. */
function start(argv: readonly string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, ["--import", "tsx", "bin/local.ts", ...argv], { cwd: ROOT, env });
  let stdout = "";
  let stderr = "";
  const watchers: { pattern: RegExp; resolve: (text: string) => void }[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const watcher of [...watchers]) {
      if (watcher.pattern.test(stdout)) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve(stdout);
      }
    }
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const finished = new Promise<Finished>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return {
    finished,
    printed: (pattern) =>
      pattern.test(stdout) ? Promise.resolve(stdout) : new Promise((resolve) => watchers.push({ pattern, resolve })),
    interrupt: () => child.kill("SIGINT"),
    closeStdout: () => child.stdout.destroy(),
  };
}

function cli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return start(argv, env).finished;
}

const newStateDir = () => mkdtempSync(join(tmpdir(), "kling-state-"));
const lines = (text: string) => text.split("\n").filter((line) => line !== "");
const STACK_LINE = /^\s+at .+[(:]\d+/m;

function batchFile(content: unknown): string {
  const file = join(newStateDir(), "batch.json");
  writeFileSync(file, JSON.stringify(content));
  return file;
}

const TOO_MANY_ITEMS = batchFile({ batchId: "big", items: Array.from({ length: 101 }, () => ({ prompt: "a kite" })) });
const BAD_BATCH_ID = batchFile({ batchId: "launch day!", items: [{ prompt: "a kite" }] });
const TOP_LEVEL_ARRAY = batchFile([{ prompt: "a kite" }]);
/** 100 valid items whose event is past the 256 KB PutEvents takes. */
const EVENT_TOO_LARGE = batchFile({ batchId: "too-large", items: Array.from({ length: 100 }, () => ({ prompt: "a paper boat drifting on a calm lake, ".repeat(70) })) });

describe.concurrent("npm start: every mistake is one line and exit 2, before anything starts", () => {
  it.each([
    [["--bogus"], /Unknown option '--bogus'/],
    [[], /a prompt is required/],
    [[""], /the prompt must not be blank/],
    [["a kite", "--duration", "7"], /^error: --duration must be one of "5", "10" for kling-v2-6/],
    [["a kite", "--aspect-ratio", "4:3"], /^error: --aspect-ratio must be one of "16:9", "9:16", "1:1"/],
    [["a kite", "--model", "nope"], /^error: --model must be one of "kling-v1"/],
    [["a kite", "--product", "lip-sync"], /^error: --product lip-sync is refused: this pipeline does not run it yet/],
    [["a kite", "--product", "multi-shot", "--model", "kling-2.6"], /^error: --product multi-shot is not offered by kling-2.6; set --model to one of "kling-v3"/],
    [["a kite", "--mode", "ultra", "--duration", "7"], /--mode must be one of .*; --duration must be one of/],
    [["a kite", "--scenario", "nope"], /unknown scenario "nope"/],
    [["a kite", "--time-scale", "0"], /--time-scale must be above 0 and at most 1, got 0/],
    [["a kite", "--time-scale", "-1"], /--time-scale must be above 0 and at most 1, got -1/],
    [["a kite", "--kling-url", "http://example.com"], /must be https/],
    [["a kite", "--kling-url", "https://api-singapore.klingai.com"], /--kling-url needs credentials: set KLINGAI_API_KEY/],
    [["a kite", "--port", "3000"], /--port is for serve/],
    [["serve", "--port", "99999"], /--port must be a port number/],
    [["--batch", "missing.json"], /cannot read the batch file missing.json: ENOENT/],
    [["--batch", "examples/batch.json", "--model", "kling-v1"], /--model shapes one request/],
    [["--batch", TOO_MANY_ITEMS], /the batch is not valid: items must hold at most 100 generation requests/],
    [["--batch", BAD_BATCH_ID], /the batch is not valid: batchId must be 1 to 64 letters/],
    [["--batch", TOP_LEVEL_ARRAY], /the batch is not valid: the file must hold one JSON object \{"batchId", "items"\}, not an array/],
    [["--batch", EVENT_TOO_LARGE], /EventBridge would refuse this batch's event, so no batch started: Total size of the entries in the request is over the limit/],
    [["show"], /show takes one run id/],
    [["show", "local-nothing"], /no local run "local-nothing"/],
    [["list", "--model", "kling-v1"], /--model is not an option of list/],
  ])("%j", async (argv, message) => {
    const { code, stdout, stderr } = await cli(argv, cleanEnv(newStateDir()));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/aspectRatio|negativePrompt/);
  });

  it.each([
    [["a kite", "--duration", "7", "--json"], /--duration must be one of/],
    [["a kite", "--time-scale", "-1", "--json"], /--time-scale must be above 0/],
    [["--bogus", "--json"], /Unknown option '--bogus'/],
    [["--batch", TOP_LEVEL_ARRAY, "--json"], /not an array/],
    [["--batch", TOO_MANY_ITEMS, "--json"], /at most 100/],
    [["show", "local-nothing", "--json"], /no local run/],
    [["redrive", "--since", "soon", "--json"], /--since must be a duration/],
  ])("with --json, %j prints exactly one JSON object with an error", async (argv, message) => {
    const { code, stdout, stderr } = await cli(argv, cleanEnv(newStateDir()));
    expect(code).toBe(2);
    expect(stderr).toBe("");
    expect(lines(stdout)).toHaveLength(1);
    expect(JSON.parse(stdout)).toEqual({ error: expect.stringMatching(message), exitCode: 2 });
  });

  it("serve on a port in use says so in one line, exit 2", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const { code, stdout, stderr } = await cli(["serve", "--port", String(port)], cleanEnv(newStateDir()));
      expect(code).toBe(2);
      expect(stdout).toBe("");
      expect(lines(stderr)).toEqual([expect.stringMatching(new RegExp(`^error: port ${port} on 127\\.0\\.0\\.1 is in use; pick another with --port`))]);
    } finally {
      busy.close();
    }
  });

  it("redrive without AWS credentials says how to provide them, in one line, exit 2", async () => {
    const home = newStateDir();
    const { code, stderr } = await cli(
      ["redrive", "--state-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:Generation"],
      // No instance metadata either: nothing may reach AWS.
      cleanEnv(newStateDir(), { HOME: home, AWS_CONFIG_FILE: join(home, "none"), AWS_SHARED_CREDENTIALS_FILE: join(home, "none"), AWS_EC2_METADATA_DISABLED: "true" }),
    );
    expect(code).toBe(2);
    expect(stderr).not.toMatch(STACK_LINE);
    expect(lines(stderr)).toEqual([expect.stringMatching(/^error: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY .* or AWS_PROFILE/)]);
  });
});

describe("npm start: runs, their outcome and their history", () => {
  it("a run prints one line per event, retries included, and the video's saved file; list and show find it in a later command", async () => {
    const stateDir = newStateDir();
    const env = cleanEnv(stateDir);
    const { code, stdout, stderr } = await cli(["a corgi surfing a wave", "--scenario", "rate-limit", "--time-scale", "0.01"], env);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    const printed = lines(stdout);
    const id = /^execution (local-\S+) \(embedded Kling simulator, scenario rate-limit, time x100\)$/.exec(printed[0] ?? "")?.[1] ?? "";
    expect(id).not.toBe("");
    expect(printed).toContainEqual(expect.stringMatching(/^ +\+\d+\.\ds {2}Validate {6}kling-v2-6, std, 5 s, text2video$/));
    expect(printed).toContainEqual(expect.stringMatching(/^ +\+\d+\.\ds {2}CheckCredits {2}costs 1\.5 units, 10000 available$/));
    for (const attempt of [1, 2]) {
      expect(printed).toContainEqual(
        expect.stringMatching(new RegExp(`Submit {8}Kling\\.RateLimited: Too many requests, please slow down and retry later \\(HTTP 429, code 1302\\); retry ${attempt} after \\d+\\.\\d s$`)),
      );
    }
    // Callbacks are on, as when the API is deployed: the first poll is the fallback's (1.5 x the typical 75 s), and Kling's callback comes first.
    expect(printed).toContainEqual(expect.stringMatching(/Submit {8}Kling task \S+ \(submitted\), first poll in 113 s$/));
    expect(printed).toContainEqual(expect.stringMatching(/WaitForVideo {2}Kling called back: the video is ready$/));
    expect(printed).toContainEqual(expect.stringMatching(new RegExp(`Archive {7}kept the video \\(\\d+ bytes\\) as videos/${id}/\\S+\\.mp4$`)));
    expect(printed).toContainEqual(expect.stringMatching(/^SUCCEEDED in \d+\.\d s \(simulated time\)$/));
    expect(stdout).not.toMatch(/undefined|"level"/);
    // Offsets count from the execution's start: Validate at +0.0s, Archive's line within the run's duration.
    expect(printed.find((line) => line.includes("Validate"))).toMatch(/^ +\+0\.0s {2}Validate/);
    const offsetOf = (line: string | undefined) => Number(/^ +\+(\d+\.\d)s/.exec(line ?? "")?.[1] ?? Number.NaN);
    const duration = Number(/^SUCCEEDED in (\d+\.\d) s/.exec(printed.find((line) => line.startsWith("SUCCEEDED")) ?? "")?.[1] ?? Number.NaN);
    expect(offsetOf(printed.find((line) => line.includes("Archive")))).toBeLessThanOrEqual(duration);

    // The Lambdas' log lines are in the run's log file, whose path was printed.
    const logFile = join(stateDir, "logs", `${id}.log`);
    expect(printed).toContain(`Lambda logs: ${logFile} (--verbose prints them here)`);
    expect(readFileSync(logFile, "utf8")).toMatch(/"message":"Kling task submitted".*"executionName":"local-/);
    // One saved video, a real .mp4 named by the run beside the local video bucket, which stays after the simulator stopped.
    expect(printed.filter((line) => line.startsWith("video: "))).toHaveLength(1);
    const videoFile = /^video: (.+)$/.exec(printed.at(-1) ?? "")?.[1] ?? "";
    expect(videoFile).toBe(join(stateDir, "videos", `${id}.mp4`));
    expect(readFileSync(videoFile).subarray(4, 8).toString("latin1")).toBe("ftyp");

    const list = await cli(["list"], env);
    expect(list.code).toBe(0);
    expect(lines(list.stdout)[1]).toMatch(new RegExp(`^${id} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +SUCCEEDED +kling-v2-6 +"a corgi surfing a wave" +${videoFile}$`));

    const show = await cli(["show", id.slice(-4)], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`${id}: generation SUCCEEDED`);
    expect(show.stdout).toContain(printed.find((line) => line.includes("Submit")));
    expect(show.stdout).toContain(`video: ${videoFile}`);
  }, 90_000);

  it("with --no-callbacks polls only, as a pipeline deployed without its API, and says so", async () => {
    const { code, stdout } = await cli(["a corgi surfing a wave", "--no-callbacks", "--time-scale", "0.005"], cleanEnv(newStateDir()));
    expect(code).toBe(0);
    const printed = lines(stdout);
    expect(printed[0]).toMatch(/^execution local-\S+ \(embedded Kling simulator, scenario happy, time x200, callbacks off\)$/);
    // The poll schedule's own first poll (0.85 x the typical 75 s), and Poll finds the video.
    expect(printed).toContainEqual(expect.stringMatching(/Submit {8}Kling task \S+ \(submitted\), first poll in 64 s$/));
    expect(printed).toContainEqual(expect.stringMatching(/Poll {10}the video is ready$/));
  }, 90_000);

  it("a success with --json names the kept video as videoFile: <run>.mp4 holding the bytes whose checksum Archive recorded, the archive kept as it is", async () => {
    const stateDir = newStateDir();
    const { code, stdout } = await cli(["a corgi", "--json", "--time-scale", "0.005"], cleanEnv(stateDir));
    expect(code).toBe(0);
    const { executionName, videoFile, output } = JSON.parse(stdout) as {
      executionName: string;
      videoFile: string;
      output: { archive: { bucket: string; video: { key: string; sha256: string } } };
    };
    expect(videoFile).toBe(join(stateDir, "videos", `${executionName}.mp4`));
    const sha256Of = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
    expect(sha256Of(videoFile)).toBe(output.archive.video.sha256);
    // The local S3's own object is still there, with the same bytes.
    expect(sha256Of(join(stateDir, "videos", output.archive.bucket, `${output.archive.video.key}._S3rver_object`))).toBe(output.archive.video.sha256);
  }, 90_000);

  it("a failure with --json is one object with the diagnosis, exit 1; show prints its trace: the error, its message, where, and the suggestion", async () => {
    const env = cleanEnv(newStateDir());
    const { code, stdout, stderr } = await cli(["a corgi", "--scenario", "invalid-params", "--json", "--time-scale", "0.005"], env);
    expect(code).toBe(1);
    expect(stderr).toBe("");
    expect(lines(stdout)).toHaveLength(1);
    const result = JSON.parse(stdout) as { executionName: string };
    expect(result).toMatchObject({
      status: "FAILED",
      output: null,
      error: "Kling.InvalidRequest",
      cause: { errorCode: "Kling.InvalidRequest", failedState: "Submit", recoverable: false, action: "fix-request" },
      retries: {},
      videoFile: null,
      simulator: { tasksCreated: 0, requests: expect.any(Number) },
    });

    const shown = await cli(["show", result.executionName], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toMatch(/undefined|failed failed|"level"/i);
    expect(shown.stdout).toMatch(/Submit {8}Kling\.InvalidRequest: Invalid parameter aspect_ratio: .* \(HTTP 400, code 1201\)\n/);
    expect(shown.stdout).toMatch(/Diagnose {6}Kling\.InvalidRequest in Submit, not recoverable\n/);
    expect(lines(shown.stdout).slice(-3)).toEqual([
      "FAILED Kling.InvalidRequest: Invalid parameter aspect_ratio: the value is not supported for this model",
      expect.stringMatching(/^ {2}in Submit after \d+\.\d s \(simulated time\); not recoverable \(fix-request\)$/),
      "  suggestion: The request is not valid; fix what the message names and send it again.",
    ]);
  }, 90_000);

  it("a batch shows each item as it ends, with each failed item's own message, and exits 1 for the example's intended failures", async () => {
    const { code, stdout } = await cli(["--batch", "examples/batch.json", "--time-scale", "0.005"], cleanEnv(newStateDir()));
    expect(code).toBe(1);
    const printed = lines(stdout);
    expect(printed.filter((line) => /^ {2}\d\/7 {2}#\d (SUCCEEDED|FAILED)/.test(line))).toHaveLength(7);
    expect(printed).toContainEqual(expect.stringMatching(/^ {2}\d\/7 {2}#6 FAILED {2}Kling\.InvalidRequest: duration must be one of "5", "10" for kling-v2-6$/));
    expect(printed).toContainEqual(expect.stringMatching(/^ {2}\d\/7 {2}#4 FAILED {2}Kling\.GenerationFailed: Kling task \S+ failed: Video generation failed: the scene is too complex/));
    expect(printed).toContain("batch example-1: 7 items, 4 succeeded, 3 failed (1 recoverable), 0 duplicates");
    expect(printed).toContainEqual(expect.stringMatching(/^ {2}#0 batch-example-1-0 SUCCEEDED {2}video: \S+\/videos\/batch-example-1-0\.mp4$/));
  }, 90_000);
});

describe("npm start -- serve", () => {
  /** One serve session: a POST with this Idempotency-Key, its end, then Ctrl-C. Resolves with the execution's id. */
  async function serveOnce(env: NodeJS.ProcessEnv, idempotencyKey: string): Promise<string> {
    const child = start(["serve", "--port", "0", "--time-scale", "0.005"], env);
    const url = /serving the generations API at (http:\/\/127\.0\.0\.1:\d+)/.exec(await child.printed(/serving the generations API at/))?.[1];
    const posted = await fetch(`${url}/generations`, { method: "POST", headers: { "Idempotency-Key": idempotencyKey }, body: JSON.stringify({ prompt: "a paper boat" }) });
    const { id } = (await posted.json()) as { id: string };
    await child.printed(new RegExp(`execution ${id} SUCCEEDED`));
    child.interrupt();
    const { code, stdout } = await child.finished;
    expect(code).toBe(130);
    expect(lines(stdout).at(-1)).toBe("stopped; no execution was running");
    return id;
  }

  it("keeps each execution it starts in the state directory, where list finds it, and stops on Ctrl-C with 130; a later session reusing an Idempotency-Key keeps the earlier run", async () => {
    const env = cleanEnv(newStateDir());
    const id = await serveOnce(env, "boat-1");
    type Listed = { runs: { id: string; executionName?: string; kind: string; status: string; prompt: string; video: string; startedAt: string }[] };
    const first = (JSON.parse((await cli(["list", "--json"], env)).stdout) as Listed).runs;
    expect(first).toMatchObject([{ id, kind: "api", status: "SUCCEEDED", prompt: "a paper boat", video: expect.stringMatching(new RegExp(`/videos/${id}\\.mp4$`)) }]);
    expect(statSync(first[0]?.video ?? "").size).toBeGreaterThan(0);

    // The next session's engine has never seen the key: the same execution name runs again, as a run of its own.
    expect(await serveOnce(env, "boat-1")).toBe(id);
    const both = (JSON.parse((await cli(["list", "--json"], env)).stdout) as Listed).runs;
    expect(both).toHaveLength(2);
    expect(both[1]).toEqual(first[0]);
    expect(both[0]).toMatchObject({ id: expect.stringMatching(new RegExp(`^${id}-\\d{8}-\\d{6}$`)), executionName: id, status: "SUCCEEDED" });
    expect(both[0]?.video).not.toBe(first[0]?.video);
  }, 120_000);
});

describe("npm start: while it runs, and Ctrl-C", () => {
  it("prints a status line while it waits for the video, and on Ctrl-C says what was left behind and exits 130", async () => {
    const stateDir = newStateDir();
    const env = cleanEnv(stateDir);
    // At the default speed the first poll comes 3 real seconds after Submit.
    const child = start(["a corgi surfing a wave"], env);
    const soFar = await child.printed(/waiting for the video/);
    expect(soFar).toMatch(/^ +\+\d+\.\ds {2}\.\. waiting for the video: \d+ s of ~75 s typical for kling-v2-6 std 5 s, 0 polls, Kling says submitted$/m);
    child.interrupt();
    const { code, stdout } = await child.finished;
    expect(code).toBe(130);
    expect(lines(stdout).slice(-2)).toEqual([
      expect.stringMatching(/^interrupted in (WaitForVideo|Poll) after \d+\.\d s \(simulated time\)$/),
      "left behind: nothing: the embedded simulator stopped with the command",
    ]);
    const list = JSON.parse((await cli(["list", "--json"], env)).stdout) as { runs: { status: string }[] };
    expect(list.runs).toMatchObject([{ status: "INTERRUPTED" }]);
  }, 90_000);

  it("a reader that goes away (| head -1) ends the run quietly, as it would a Unix tool: no error, the run kept as interrupted", async () => {
    const env = cleanEnv(newStateDir());
    const child = start(["a corgi surfing a wave", "--time-scale", "0.01"], env);
    await child.printed(/^Lambda logs: /m);
    child.closeStdout();
    const { code, stderr } = await child.finished;
    expect(stderr).toBe("");
    expect(code).toBe(130);
    const list = JSON.parse((await cli(["list", "--json"], env)).stdout) as { runs: { status: string }[] };
    expect(list.runs).toMatchObject([{ status: "INTERRUPTED" }]);
  }, 90_000);

  it("against a real Kling, Ctrl-C names the task that goes on and how to follow it", async () => {
    // A Kling the command cannot tell from the real one: its own URL and key, real time.
    const kling = await startSimulator({ credentials: { apiKey: DEV_API_KEY } });
    try {
      const child = start(["a corgi", "--kling-url", kling.baseUrl], cleanEnv(newStateDir(), { KLINGAI_API_KEY: DEV_API_KEY }));
      await child.printed(/Submit +Kling task/);
      child.interrupt();
      const { code, stdout } = await child.finished;
      expect(code).toBe(130);
      expect(kling.stats.tasksCreated).toBe(1);
      const task = /Kling task (\S+) \(submitted\)/.exec(stdout)?.[1] ?? "";
      expect(lines(stdout).at(-1)).toMatch(
        new RegExp(`^left behind: Kling task ${task} \\(external_task_id local-\\S+\\) goes on and is charged; follow it with GET ${kling.baseUrl}/v1/videos/text2video/${task}`),
      );
    } finally {
      await kling.close();
    }
  }, 90_000);
});

describe("the live status while a generation waits for one of the account's Kling slots", () => {
  // The command's own session, with one slot: a command alone never waits for it, two generations do.
  let session: LocalSession;
  beforeAll(async () => {
    session = await startLocalSession({ timeScale: 0.01, config: { klingConcurrency: 1 } });
  }, 60_000);
  afterAll(async () => {
    await session?.close();
  });

  /** Starts a generation and resolves, once it holds the only slot, with its run (in an object: a promise returned would be awaited). */
  async function holdTheSlot(name: string): Promise<{ readonly run: Promise<unknown> }> {
    const run = session.run({ prompt: "a kite on a windy beach" }, name);
    while ((await session.pipeline.ledger.ledger.holdings()).slotHolders.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    return { run };
  }

  /** The status, read as the command reads it, until it matches; the last one read if it never does within 20 real seconds. */
  async function statusUntil(status: () => Promise<string>, pattern: RegExp): Promise<string> {
    const giveUpAt = Date.now() + 20_000;
    for (;;) {
      const text = await status();
      if (pattern.test(text) || Date.now() > giveUpAt) return text;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("npm start's status gives its place in the queue while another generation holds the slot, and the trace how long it waited", async () => {
    const holder = (await holdTheSlot("holds-the-slot")).run;
    const progress = new GenerationProgress(session.clock.now());
    const formatter = new TraceFormatter();
    const traced: string[] = [];
    const waiting = session.run({ prompt: "a corgi surfing a wave" }, "waits-for-the-slot", (event) => {
      progress.observe(event);
      traced.push(...formatter.format(event));
    });
    const queued = await statusUntil(generationStatus(session, progress, "waits-for-the-slot"), /queued/);
    expect(queued).toMatch(/^ +\+\d+\.\ds {2}\.\. queued for a Kling slot: position 1, \d+ s so far$/);
    expect(await holder).toMatchObject({ status: "SUCCEEDED" });
    expect(await waiting).toMatchObject({ status: "SUCCEEDED" });
    expect(traced).toContainEqual(expect.stringMatching(/WaitForSlot {3}a Kling slot after \d+ s in the queue$/));
  }, 60_000);

  it("the batch command's status counts its items queued for a slot", async () => {
    const holder = (await holdTheSlot("holds-the-slot-again")).run;
    const batch = session.pipeline.runBatchEvent({ batchId: "queued", items: [{ prompt: "a paper boat" }] }, "local-batch-queued");
    const queued = await statusUntil(batchStatus(session, () => ({ done: 0, failed: 0, total: 1 })), /queued/);
    expect(queued).toBe("  [--------------------] 0/1 done, 0 failed; 1 generating, 1 queued for a Kling slot");
    expect(await holder).toMatchObject({ status: "SUCCEEDED" });
    expect(await batch).toMatchObject({ status: "SUCCEEDED", output: { succeeded: 1 } });
  }, 60_000);
});
