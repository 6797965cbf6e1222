/**
 * Requester callbacks end to end: generations with a `callbackUrl` run through the synthesized
 * state machine on the local engine, and the ended-executions rule delivers each outcome to a
 * receiver on 127.0.0.1 over https (the test certificate, verification on), signed, once.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhook } from "#lambdas/common/standard-webhooks";
import type { RequesterNotification } from "#lambdas/notify-requester/notification";
import { LocalPipeline } from "#local/runner/pipeline";
import { ScaledClock } from "#local/runner/scaled-clock";
import { DEV_API_KEY, type Simulator, startSimulator } from "#local/simulator/index";
import { synthesizedPlan } from "#local/runner/synthesize";

const TLS_DIR = resolve("test/fixtures/tls");
const CERT = readFileSync(join(TLS_DIR, "cert.pem"));

interface Received {
  readonly headers: Record<string, string | undefined>;
  readonly body: string;
}

let receiver: Server;
let callbackUrl: string;
const received: Received[] = [];
/** The receiver's answers, in order; then 204. */
const answers: number[] = [];
let pipeline: LocalPipeline;
let simulator: Simulator;

beforeAll(async () => {
  receiver = createServer({ key: readFileSync(join(TLS_DIR, "key.pem")), cert: CERT }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : value]));
      received.push({ headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(answers.shift() ?? 204).end();
    });
  });
  await new Promise<void>((listening) => receiver.listen(0, "127.0.0.1", listening));
  callbackUrl = `https://127.0.0.1:${(receiver.address() as AddressInfo).port}/kling-videos`;

  const clock = new ScaledClock(0.01);
  // The receiver listens on 127.0.0.1: the local-only allowance, which the stack never sets.
  pipeline = new LocalPipeline({ clock, plan: synthesizedPlan(), requesterCallbacks: { trustedCa: CERT, allowLoopback: true } });
  simulator = await startSimulator({ clock, credentials: { apiKey: DEV_API_KEY }, generationSeconds: 30 });
  pipeline.connect(simulator.baseUrl, { apiKey: DEV_API_KEY });
});
afterAll(async () => {
  await pipeline?.close();
  await simulator?.close();
  await new Promise((closed) => receiver?.close(closed));
});

/** The notifications the receiver got for one generation, each checked the way a requester checks it. */
function verifiedFor(generationId: string): RequesterNotification[] {
  return received
    .map((delivery) => {
      verifyWebhook(pipeline.requesterWebhookSecret, delivery.headers, delivery.body, Date.now() / 1000);
      return JSON.parse(delivery.body) as RequesterNotification;
    })
    .filter((notification) => notification.data.generationId === generationId);
}

describe("requester callbacks", () => {
  it("a succeeded generation's requester gets exactly one verified notification with the archived video's key", async () => {
    const report = await pipeline.runGeneration({ prompt: "a corgi surfing a wave", callbackUrl }, "callback-succeeds");
    await pipeline.statusChangesDelivered();
    expect(report.status).toBe("SUCCEEDED");
    const notifications = verifiedFor("callback-succeeds");
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({
      type: "generation.succeeded",
      data: { status: "SUCCEEDED", diagnosis: null, video: { key: expect.stringContaining("callback-succeeds"), bytes: expect.any(Number) } },
    });
    // Kling was never given the requester's URL.
    expect(JSON.stringify(simulator.tasks())).not.toContain(callbackUrl);
  });

  it("a failed generation's requester gets exactly one verified notification with Kling's reason", async () => {
    const report = await pipeline.runGeneration({ prompt: "a corgi surfing a wave [scenario:generation-failed]", callbackUrl }, "callback-fails");
    await pipeline.statusChangesDelivered();
    expect(report.status).toBe("FAILED");
    const notifications = verifiedFor("callback-fails");
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({
      type: "generation.failed",
      // Kling's callback of the failed task ended WaitForVideo with the failure (callbacks are on by default).
      data: { status: "FAILED", video: null, diagnosis: { errorCode: "Kling.GenerationFailed", recoverable: true, failedState: "WaitForVideo" } },
    });
  });

  it("a receiver that answers 500 is not recorded as notified: the next delivery of the same outcome is sent, with the same webhook-id", async () => {
    answers.push(500);
    await pipeline.runGeneration({ prompt: "a corgi surfing a wave", callbackUrl }, "callback-refused");
    await pipeline.statusChangesDelivered();
    const refused = received.filter((delivery) => delivery.body.includes('"callback-refused"'));
    expect(refused).toHaveLength(1);
    const ledger = pipeline.ledger.ledger;
    const webhookId = refused[0]?.headers["webhook-id"] ?? "";
    expect(await ledger.claimNotification(webhookId, "a-retry", Date.now(), Date.now() + 60_000)).toBe("claimed");
  });
});
