/** The local command as a person runs it: the trace, the JSON line, the exit codes. */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { runCommand } from "../../local/cli/run-command";
import { LOCAL_STATE_VARIABLE } from "../../local/storage/local-video-bucket";

const run = promisify(execFile);

/** The runs' archived videos go to a temporary state directory, not the checkout's. */
const STATE_DIRECTORY = join(tmpdir(), `kling-state-${process.pid}`);
afterAll(() => rm(STATE_DIRECTORY, { recursive: true, force: true }));

async function inProcess(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCommand(argv, { [LOCAL_STATE_VARIABLE]: STATE_DIRECTORY }, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

describe("npm start", () => {
  it('`npm start -- "a corgi surfing a wave"` prints the trace, a video URL and the saved file, still there after it exits 0', async () => {
    const stateDirectory = await mkdtemp(join(tmpdir(), "kling-state-"));
    const env = { ...process.env, [LOCAL_STATE_VARIABLE]: stateDirectory };
    const { stdout } = await run("tsx", ["bin/local.ts", "a corgi surfing a wave", "--time-scale", "0.01"], { timeout: 60_000, env });
    for (const state of ["Validate", "CheckCredits", "Submit", "WaitForVideo", "Poll", "VideoReady?", "Archive", "Succeeded"]) {
      expect(stdout).toContain(`-> ${state}`);
    }
    expect(stdout).toMatch(/^video: http:\/\/127\.0\.0\.1:\d+\/videos\/.+\.mp4$/m);
    const saved = /^saved: (.+)$/m.exec(stdout)?.[1] ?? "";
    expect(saved.startsWith(join(stateDirectory, "videos"))).toBe(true);
    const bytes = await readFile(saved);
    expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
    await rm(stateDirectory, { recursive: true, force: true });
  }, 60_000);

  it("--json gives the saved file too", async () => {
    const { code, out } = await inProcess(["a corgi", "--json", "--time-scale", "0.002"]);
    expect(code).toBe(0);
    const { savedFile, output } = JSON.parse(out[0] ?? "") as { savedFile: string; output: { archive: { video: { sha256: string } } } };
    expect(savedFile.startsWith(join(STATE_DIRECTORY, "videos"))).toBe(true);
    expect(createHash("sha256").update(await readFile(savedFile)).digest("hex")).toBe(output.archive.video.sha256);
  }, 60_000);

  it("--json prints one JSON line with the diagnosis, the retries and the simulator's counts, and exits 1 on failure", async () => {
    const { code, out } = await inProcess(["a corgi", "--json", "--scenario", "content-policy", "--time-scale", "0.002"]);
    expect(code).toBe(1);
    expect(out).toHaveLength(1);
    const result = JSON.parse(out[0] ?? "");
    expect(result).toMatchObject({
      status: "FAILED",
      output: null,
      error: "Kling.ContentPolicy",
      cause: { errorCode: "Kling.ContentPolicy", failedState: "Submit", recoverable: false, action: "change-prompt" },
      retries: {},
      simulator: { tasksCreated: 0, requests: expect.any(Number) },
    });
  }, 60_000);

  it("--json counts the retries per state", async () => {
    const { code, out } = await inProcess(["a corgi", "--json", "--scenario", "rate-limit", "--time-scale", "0.002"]);
    expect(code).toBe(0);
    expect(JSON.parse(out[0] ?? "")).toMatchObject({ status: "SUCCEEDED", error: null, cause: null, retries: { Submit: 2 } });
  }, 60_000);

  it("--batch FILE --json runs the batch workflow and prints the summary on one line", async () => {
    const { code, out } = await inProcess(["--batch", "examples/batch.json", "--json", "--time-scale", "0.002"]);
    expect(code).toBe(1); // the example holds items that fail on purpose
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0] ?? "")).toMatchObject({ batchId: "example-1", total: 7, succeeded: 4, failed: 3, recoverable: 1 });
  }, 60_000);

  it("--batch refuses a batch whose event is past EventBridge's 256 KB, before anything starts, exit 2", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "kling-batch-")), "too-large.json");
    const items = Array.from({ length: 100 }, () => ({ prompt: "a paper boat drifting on a calm lake, ".repeat(70) }));
    await writeFile(file, JSON.stringify({ batchId: "too-large", items }));
    const { code, out, err } = await inProcess(["--batch", file, "--time-scale", "0.002"]);
    expect(code).toBe(2);
    expect(out.filter((line) => / done, /.test(line))).toEqual([]);
    expect(err[0]).toMatch(/^error: EventBridge would refuse this batch's event, so no batch started: Total size of the entries in the request is over the limit/);
  }, 60_000);

  it("--batch prints a progress line per item and the summary", async () => {
    const { out } = await inProcess(["--batch", "examples/batch.json", "--time-scale", "0.002"]);
    expect(out.filter((line) => /^ {2}\d+\/7 done, \d+ failed/.test(line))).toHaveLength(7);
    expect(out).toContain("batch example-1: 7 items, 4 succeeded, 3 failed (1 recoverable), 0 duplicates");
  }, 60_000);

  it.each([
    [["--bogus"], /Unknown option '--bogus'/],
    [[], /a prompt is required/],
    [["a", "--scenario", "nope"], /unknown scenario "nope"/],
    [["a", "--time-scale", "0"], /--time-scale must be above 0/],
    [["a", "--kling-url", "http://example.com"], /must be https/],
    [["a", "--kling-url", "https://api-singapore.klingai.com"], /needs credentials/],
    [["--batch", "missing.json"], /cannot read the batch file missing.json: ENOENT/],
    [["--batch", "examples/batch.json", "--model", "kling-v1"], /--model shapes one request/],
    [["serve", "--port", "99999"], /--port must be a port number/],
    [["a prompt", "--port", "3000"], /--port is for serve/],
  ])("a usage mistake (%j) is one line and the usage, exit 2", async (argv, message) => {
    const { code, out, err } = await inProcess(argv);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err[0]).toMatch(message);
    expect(err[1]).toMatch(/^usage: npm start/);
  });
});
