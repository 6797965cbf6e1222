import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { callbackLine, parseSimulatorArgs, usage } from "#local/simulator/cli-options";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSX = `${ROOT}node_modules/.bin/tsx`;

describe("simulator command flags", () => {
  it("reads every documented flag", () => {
    const parsed = parseSimulatorArgs([
      "--port", "9000", "--access-key", "ak", "--secret-key", "sk", "--max-concurrent", "3",
      "--generation-seconds", "12.5", "--units", "40", "--scenario", "rate-limit",
      "--callback-signing-secret", "whsec_c2VjcmV0",
    ]);
    expect(parsed).toEqual({
      ok: true,
      help: false,
      options: {
        port: 9000,
        credentials: [{ accessKey: "ak", secretKey: "sk" }],
        maxConcurrentTasks: 3,
        generationSeconds: 12.5,
        units: 40,
        scenario: "rate-limit",
        callbackSigningSecret: "whsec_c2VjcmV0",
      },
    });
  });

  it("defaults to port 8787 and leaves the credentials to the simulator's dev key", () => {
    expect(parseSimulatorArgs([])).toEqual({ ok: true, help: false, options: { port: 8787 } });
  });

  it.each([
    [["--bogus"], /bogus/],
    [["--port", "http"], /--port/],
    [["--max-concurrent", "0"], /--max-concurrent/],
    [["--generation-seconds", "-1"], /--generation-seconds/],
    [["--units", "lots"], /--units/],
    [["--scenario", "chaos"], /--scenario chaos/],
    [["--access-key", "ak"], /--secret-key/],
    [["--callback-signing-secret", "c2VjcmV0"], /--callback-signing-secret must be whsec_/],
    [["--callback-signing-secret", "whsec_not base64"], /--callback-signing-secret must be whsec_/],
    [["stray"], /stray/],
  ])("refuses %j", (argv, error) => {
    const parsed = parseSimulatorArgs(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(error);
  });

  it("lists every scenario in the usage", () => {
    expect(usage()).toMatch(/lost-create-response +the first create/);
    expect(usage()).toMatch(/callback-reordered +the processing callback/);
  });

  it("logs a callback with the status it reports, its task, where it went and what came of it", () => {
    const entry = { url: "http://127.0.0.1:9/cb", taskId: "t-1", externalTaskId: "job-1", taskStatus: "succeed", webhookId: "msg_1" } as const;
    expect(callbackLine({ ...entry, status: 204 })).toBe("callback succeed of job-1 -> http://127.0.0.1:9/cb: 204");
    expect(callbackLine({ ...entry, externalTaskId: undefined, status: undefined, error: "connect ECONNREFUSED 127.0.0.1:9", fault: "duplicate" })).toBe(
      "callback succeed of t-1 -> http://127.0.0.1:9/cb: not delivered (connect ECONNREFUSED 127.0.0.1:9) [fault: duplicate]",
    );
  });
});

describe("npm run simulator", () => {
  it("prints a one-line error and the usage for a bad flag, and exits 2", async () => {
    const child = spawn(TSX, ["local/simulator-cli.ts", "--nope"], { cwd: ROOT });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, "exit");
    expect(code).toBe(2);
    const [first, second] = stderr.split("\n");
    expect(first).toMatch(/^simulator: .*--nope/);
    expect(second).toMatch(/^usage: /);
  });

  it("on a port in use prints one line that says so, with no stack trace, and exits 2", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const child = spawn(TSX, ["local/simulator-cli.ts", "--port", String(port)], { cwd: ROOT });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const [code] = await once(child, "exit");
      expect(code).toBe(2);
      expect(stderr).toBe(`simulator: port ${port} on 127.0.0.1 is in use; pick another with --port (0 picks a free one)\n`);
    } finally {
      busy.close();
    }
  });

  it("prints its URL, credentials, limits and scenario, serves, and stops on SIGTERM", async () => {
    const child = spawn(TSX, ["local/simulator-cli.ts", "--port", "0", "--api-key", "cli-key", "--max-concurrent", "4", "--scenario", "content-policy"], { cwd: ROOT });
    let stdout = "";
    const banner = new Promise<string>((resolve) => {
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("callbacks")) resolve(stdout);
      });
    });
    const printed = await banner;
    expect(printed).toMatch(/accepts API key +cli-key/);
    expect(printed).toMatch(/max concurrent tasks 4/);
    expect(printed).toMatch(/scenario +content-policy/);
    expect(printed).toMatch(/callbacks +to a task's callback_url on 127\.0\.0\.1 or localhost, unsigned/);

    const baseUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(printed)?.[1];
    const created = await fetch(`${baseUrl}/v1/videos/text2video`, {
      method: "POST",
      headers: { authorization: "Bearer cli-key" },
      body: JSON.stringify({ prompt: "a kite" }),
    });
    expect(((await created.json()) as { code: number }).code).toBe(1301);

    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });
});
