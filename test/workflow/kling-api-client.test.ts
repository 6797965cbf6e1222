/**
 * The independent `kling-api` npm client (aself101/kling-api, AccessKey/SecretKey JWTs, legacy
 * `/v1` standard) runs its whole flow against the simulator: an outside reading of Kling's
 * documentation checks the simulator's wire format. The client accepts only `https://` base URLs,
 * so the simulator serves TLS with a test-only certificate (test/fixtures/tls), which the child
 * process trusts through NODE_EXTRA_CA_CERTS: TLS verification stays on.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RequestLogEntry, type Simulator } from "#local/simulator/server";
import { pngBase64 } from "#local/simulator/test-support";
import type { FlowReport } from "../support/kling-api-client-flow";

const TLS_DIR = resolve("test/fixtures/tls");
const NODE_22 = resolve("node_modules/.bin/node");
const FLOW_SCRIPT = resolve("test/support/kling-api-client-flow.ts");
const ACCESS_KEY = "ak-independent-client";
const SECRET_KEY = "sk-independent-client-secret";
const UNITS = 1_000;
const MP4_HEAD = /^[0-9a-f]{8}66747970/; // a box size, then `ftyp`

describe("the independent kling-api client against the simulator over TLS", () => {
  let simulator: Simulator;
  let scratch: string;
  const requests: RequestLogEntry[] = [];
  let flow: FlowReport;

  beforeAll(async () => {
    simulator = await startSimulator({
      tls: { key: readFileSync(join(TLS_DIR, "key.pem")), cert: readFileSync(join(TLS_DIR, "cert.pem")) },
      credentials: { accessKey: ACCESS_KEY, secretKey: SECRET_KEY },
      generationSeconds: 0.3,
      units: UNITS,
      onRequest: (entry) => requests.push(entry),
    });
    scratch = mkdtempSync(join(tmpdir(), "kling-api-client-"));
    const image = join(scratch, "first-frame.png");
    writeFileSync(image, Buffer.from(pngBase64(1280, 720), "base64"));

    const { stdout } = await promisify(execFile)(NODE_22, [FLOW_SCRIPT], {
      timeout: 60_000,
      // Only what the child needs: nothing here turns TLS verification off.
      env: {
        PATH: process.env.PATH,
        NODE_EXTRA_CA_CERTS: join(TLS_DIR, "cert.pem"),
        KLING_API_FLOW_BASE_URL: simulator.baseUrl,
        KLING_API_FLOW_ACCESS_KEY: ACCESS_KEY,
        KLING_API_FLOW_SECRET_KEY: SECRET_KEY,
        KLING_API_FLOW_IMAGE: image,
      },
    });
    flow = JSON.parse(stdout) as FlowReport;
  });

  afterAll(async () => {
    await simulator?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("serves https on 127.0.0.1", () => {
    expect(simulator.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("creates a text-to-video task, waits for it to succeed and reads the video from its URL", () => {
    const text = flow.textToVideo;
    expect(text.createdStatus).toBe("submitted");
    expect(text.finalStatus).toBe("succeed");
    expect(text.videoUrl.startsWith(`${simulator.baseUrl}/videos/`)).toBe(true);
    expect(text.video).toMatchObject({ status: 200, contentType: "video/mp4" });
    expect(text.video.headHex).toMatch(MP4_HEAD);
  });

  it("creates an image-to-video task from a PNG file the same way", () => {
    const image = flow.imageToVideo;
    expect(image.createdStatus).toBe("submitted");
    expect(image.finalStatus).toBe("succeed");
    expect(image.videoUrl.startsWith(`${simulator.baseUrl}/videos/`)).toBe(true);
    expect(image.video.headHex).toMatch(MP4_HEAD);
  });

  it("the simulator made exactly these two tasks, as the client asked, and charged them once", () => {
    const tasks = simulator.tasks();
    expect(tasks.map((task) => [task.taskId, task.kind, task.request.model, task.request.mode, task.request.duration, task.status])).toEqual([
      [flow.textToVideo.createdTaskId, "text2video", "kling-v2-5-turbo", "std", "5", "succeed"],
      [flow.imageToVideo.createdTaskId, "image2video", "kling-v2-1", "std", "5", "succeed"],
    ]);
    const charged = tasks.reduce((sum, task) => sum + task.units, 0);
    expect(charged).toBeGreaterThan(0);
    expect(flow.remainingUnits).toBe(UNITS - charged);
  });

  it("accepted the client's AccessKey/SecretKey JWT on every call but the wrongly signed one", () => {
    // The simulator accepts only the AccessKey/SecretKey pair, so a 200 is a verified JWT.
    const refused = requests.filter((entry) => entry.status !== 200);
    expect(refused).toEqual([{ method: "POST", path: "/v1/videos/text2video", kind: "create", status: 401, code: 1002, fault: undefined }]);
    expect(simulator.stats.requestsByKind).toMatchObject({ create: 3, account: 1, video: 2 });
    expect(simulator.stats.requestsByKind.query).toBeGreaterThanOrEqual(2);
  });

  it("reports a wrong SecretKey as Kling's 401 with code 1002", () => {
    expect(flow.badSecretKey).toEqual({ name: "KlingAPIError", message: "Authorization is invalid", code: 1002, httpStatus: 401 });
  });

  it("refuses a plain http:// base URL, which is why the simulator serves TLS here", () => {
    expect(flow.plainHttp).toMatchObject({ name: "Error", message: "Base URL must use HTTPS protocol" });
  });
});
