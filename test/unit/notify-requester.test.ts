/**
 * NotifyRequester against the ledger on dynalite, with a recording HTTP port: the payload of each
 * ending, its Standard Webhooks signature, retries on failure, and once per outcome.
 */
import { readFileSync } from "node:fs";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join, resolve as resolvePath } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newWebhookSecret, verifyWebhook } from "#lambdas/common/standard-webhooks";
import { diagnose } from "#lambdas/diagnose/diagnosis";
import { addressRefusal, httpsWebhookSender, type Resolver, type WebhookPost } from "#lambdas/notify-requester/https-sender";
import { type NotifyPorts, notifyRequesterHandler } from "#lambdas/notify-requester/handler";
import type { RequesterNotification } from "#lambdas/notify-requester/notification";
import { ledgerOnDynalite } from "../support/ledger-on-dynalite";

const dynalite = ledgerOnDynalite();
const CALLBACK = "https://hooks.example.com/videos?token=abc";
const ENDED_AT = "2026-11-26T02:00:00Z";
const NOW_MS = Date.parse(ENDED_AT) + 2_000;

const SUCCEEDED_OUTPUT = JSON.stringify({
  jobId: "gen-1",
  task: { video: { url: "https://cdn.klingai.example/v.mp4", duration: "5.1" } },
  archive: { bucket: "videos-bucket", video: { key: "videos/gen-1.mp4", sha256: "ab".repeat(32), bytes: 123_456 } },
});

function statusChange(name: string, status: string, more: Record<string, unknown> = {}) {
  return {
    source: "aws.states",
    "detail-type": "Step Functions Execution Status Change",
    time: ENDED_AT,
    detail: {
      executionArn: dynalite.arn(name),
      stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:Generation",
      name,
      status,
      redriveCount: 0,
      input: JSON.stringify({ prompt: "a corgi surfing", callbackUrl: CALLBACK }),
      inputDetails: { included: true },
      output: null,
      outputDetails: { included: true },
      error: null,
      cause: null,
      ...more,
    },
  };
}

let secret: string;
let posts: WebhookPost[];
let answers: (number | Error)[];
let described: string[];

function ports(): NotifyPorts {
  return {
    clock: { now: () => NOW_MS },
    ledger: () => dynalite.ledger,
    signingSecret: async () => secret,
    send: async (post) => {
      posts.push(post);
      const answer = answers.shift() ?? 204;
      if (answer instanceof Error) throw answer;
      return answer;
    },
    executionData: async (executionArn) => {
      described.push(executionArn);
      return { input: JSON.stringify({ prompt: "a corgi", callbackUrl: CALLBACK }), output: SUCCEEDED_OUTPUT };
    },
    timeoutMs: () => 5_000,
  };
}

beforeEach(() => {
  secret = newWebhookSecret();
  posts = [];
  answers = [];
  described = [];
});

const notify = (event: unknown) => notifyRequesterHandler(ports())(event);

/** The one post's body, after checking its signature the way a requester would. */
function verifiedBody(post: WebhookPost | undefined): RequesterNotification {
  if (!post) throw new Error("nothing was posted");
  verifyWebhook(secret, post.headers, post.body, NOW_MS / 1000);
  return JSON.parse(post.body) as RequesterNotification;
}

describe("NotifyRequester", () => {
  it("posts a succeeded generation's archived video to the callbackUrl, signed, as JSON", async () => {
    const outcome = await notify(statusChange("ok-1", "SUCCEEDED", { output: SUCCEEDED_OUTPUT }));
    expect(outcome).toMatchObject({ outcome: "delivered", status: 204 });
    expect(posts).toHaveLength(1);
    expect(posts[0]?.url).toBe(CALLBACK);
    expect(posts[0]?.headers["content-type"]).toBe("application/json");
    expect(posts[0]?.headers["webhook-id"]).toMatch(/^msg_[A-Za-z0-9_-]{32}$/);
    expect(verifiedBody(posts[0])).toEqual({
      type: "generation.succeeded",
      timestamp: ENDED_AT,
      data: {
        generationId: "ok-1",
        status: "SUCCEEDED",
        redriveCount: 0,
        video: { bucket: "videos-bucket", key: "videos/gen-1.mp4", sha256: "ab".repeat(32), bytes: 123_456, duration: "5.1" },
        diagnosis: null,
      },
    });
  });

  it("posts a failed generation's diagnosis as the API shows it", async () => {
    const diagnosis = diagnose("failed-1", "Poll", { Error: "Kling.GenerationFailed", Cause: "Kling task t-1 failed: the scene is too complex" });
    await notify(statusChange("failed-1", "FAILED", { error: "Kling.GenerationFailed", cause: JSON.stringify(diagnosis) }));
    const body = verifiedBody(posts[0]);
    expect(body.type).toBe("generation.failed");
    expect(body.data).toMatchObject({ generationId: "failed-1", status: "FAILED", video: null, diagnosis });
    expect(body.data.diagnosis?.recoverable).toBe(true);
  });

  it("posts a timed-out generation as States.Timeout, and a stopped one as Execution.Stopped", async () => {
    await notify(statusChange("late-1", "TIMED_OUT"));
    await notify(statusChange("stopped-1", "ABORTED", { cause: "an operator stopped it" }));
    const [timedOut, aborted] = posts.map(verifiedBody);
    expect(timedOut?.type).toBe("generation.timed_out");
    expect(timedOut?.data.diagnosis).toMatchObject({ errorCode: "States.Timeout", recoverable: true });
    expect(aborted?.type).toBe("generation.aborted");
    expect(aborted?.data.diagnosis).toMatchObject({ errorCode: "Execution.Stopped", errorMessage: "an operator stopped it" });
  });

  it("throws on a 500 so the delivery is retried, and the retry carries the same webhook-id", async () => {
    answers = [500, 200];
    const event = statusChange("retried-1", "SUCCEEDED", { output: SUCCEEDED_OUTPUT });
    await expect(notify(event)).rejects.toMatchObject({ name: "RequesterNotificationError", message: expect.stringContaining("answered 500") });
    await expect(notify(event)).resolves.toMatchObject({ outcome: "delivered", status: 200 });
    expect(posts).toHaveLength(2);
    expect(posts[1]?.headers["webhook-id"]).toBe(posts[0]?.headers["webhook-id"]);
  });

  it("throws on a network failure, naming the callback's origin but not its path or query", async () => {
    answers = [Object.assign(new Error("connect ECONNREFUSED"), { name: "Error" })];
    const failure = notify(statusChange("refused-1", "FAILED", { error: "Kling.PollTimeout", cause: "past the deadline" }));
    await expect(failure).rejects.toThrow("could not notify the requester at https://hooks.example.com: Error: connect ECONNREFUSED");
    await expect(failure).rejects.not.toThrow("token=abc");
  });

  it("sends nothing for a second event of an outcome it delivered", async () => {
    const event = statusChange("twice-1", "SUCCEEDED", { output: SUCCEEDED_OUTPUT });
    await notify(event);
    await expect(notify(event)).resolves.toMatchObject({ outcome: "already-delivered" });
    expect(posts).toHaveLength(1);
  });

  it("sends a redriven execution's new outcome, under a new webhook-id", async () => {
    await notify(statusChange("redriven-1", "FAILED", { error: "Kling.RateLimited", cause: "429" }));
    await notify(statusChange("redriven-1", "SUCCEEDED", { redriveCount: 1, output: SUCCEEDED_OUTPUT }));
    expect(posts.map((post) => verifiedBody(post).type)).toEqual(["generation.failed", "generation.succeeded"]);
    expect(posts[1]?.headers["webhook-id"]).not.toBe(posts[0]?.headers["webhook-id"]);
  });

  it("refuses to send while another attempt holds the delivery, so it is retried later", async () => {
    const event = statusChange("busy-1", "SUCCEEDED", { output: SUCCEEDED_OUTPUT });
    let release = () => undefined as void;
    const first = notifyRequesterHandler({
      ...ports(),
      send: async (post) => {
        posts.push(post);
        await new Promise<void>((resolve) => (release = resolve));
        return 200;
      },
    })(event);
    await expect.poll(() => posts.length).toBe(1);
    await expect(notify(event)).rejects.toThrow("another attempt is delivering");
    release();
    await expect(first).resolves.toMatchObject({ outcome: "delivered" });
    expect(posts).toHaveLength(1);
  });

  it("does nothing for a request without a callbackUrl", async () => {
    const event = statusChange("quiet-1", "SUCCEEDED", { output: SUCCEEDED_OUTPUT, input: JSON.stringify({ prompt: "a corgi" }) });
    await expect(notify(event)).resolves.toEqual({ outcome: "no-callback" });
    expect(posts).toHaveLength(0);
  });

  it("reads the input and output with DescribeExecution when the event left them out (past EventBridge's 248 KB)", async () => {
    const event = statusChange("big-1", "SUCCEEDED", { input: null, inputDetails: { included: false } });
    await notify(event);
    expect(described).toEqual([dynalite.arn("big-1")]);
    expect(verifiedBody(posts[0]).data.video?.key).toBe("videos/gen-1.mp4");
  });
});

describe("a requester's callbackUrl cannot be aimed inward", () => {
  const tls = resolvePath("test/fixtures/tls");
  const cert = readFileSync(join(tls, "cert.pem"));
  /** A receiver on 127.0.0.1 (its certificate names localhost and 127.0.0.1); `endless` answers a body that never ends. */
  let connections = 0;
  let endless = false;
  const receiver = createTlsServer({ key: readFileSync(join(tls, "key.pem")), cert }, (request, response) => {
    request.resume();
    request.on("end", () => {
      if (!endless) {
        response.writeHead(204).end();
        return;
      }
      response.writeHead(200, { "content-type": "text/plain" });
      const chunk = Buffer.alloc(16 * 1024, 97);
      const pour = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once("drain", pour);
      };
      pour();
    });
  });
  receiver.on("secureConnection", () => (connections += 1));
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((listening) => receiver.listen(0, "127.0.0.1", listening));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise((closed) => receiver.close(closed));
  });
  beforeEach(() => {
    connections = 0;
    endless = false;
  });

  /** DNS as the tests want it: no real resolution. */
  const names: Record<string, readonly string[]> = {
    localhost: ["127.0.0.1"],
    "hooks.example.com": ["93.184.215.14"],
    "metadata.example.com": ["169.254.169.254"],
    "intranet.example.com": ["10.1.2.3"],
    "mixed.example.com": ["93.184.215.14", "192.168.0.10"],
    "ula.example.com": ["fd00:ec2::254"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
  };
  const asked: string[] = [];
  const resolver: Resolver = async (hostname) => {
    asked.push(hostname);
    return (names[hostname] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  const post = (url: string): WebhookPost => ({ url, headers: {}, body: "{}", timeoutMs: 5000 });

  it("refuses loopback, private, link-local, metadata and other non-public addresses, IPv4 written as IPv6 too", () => {
    for (const address of ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fe80::1", "fd00:ec2::254", "::ffff:10.0.0.1", "::ffff:127.0.0.1"]) {
      expect(addressRefusal(address, false), address).toBeDefined();
    }
    for (const address of ["93.184.215.14", "8.8.8.8", "2606:4700::1111"]) expect(addressRefusal(address, false), address).toBeUndefined();
    // The local allowance opens loopback alone.
    expect(addressRefusal("127.0.0.1", true)).toBeUndefined();
    expect(addressRefusal("::1", true)).toBeUndefined();
    expect(addressRefusal("10.0.0.1", true)).toBeDefined();
    expect(addressRefusal("169.254.169.254", true)).toBeDefined();
  });

  it.each([
    ["metadata.example.com", "169.254.169.254 is a private, link-local or otherwise non-public address"],
    ["intranet.example.com", "10.1.2.3 is a private, link-local or otherwise non-public address"],
    ["mixed.example.com", "192.168.0.10 is a private, link-local or otherwise non-public address"],
    ["ula.example.com", "fd00:ec2::254 is a private, link-local or otherwise non-public address"],
    ["mapped.example.com", "::ffff:127.0.0.1 is a loopback address"],
    ["localhost", "127.0.0.1 is a loopback address"],
    ["nowhere.example.com", "nowhere.example.com has no address"],
  ])("a name that resolves inward (%s) is refused as the connection looks it up", async (name, reason) => {
    const send = httpsWebhookSender({ ca: cert, resolve: resolver });
    await expect(send(post(`https://${name}:${port}/hook`))).rejects.toThrow(`a requester callback may not go to ${name}: ${reason}`);
    expect(connections).toBe(0);
  });

  it("the address checked is the one connected to: the connection uses the checked lookup's answer, never another resolution", async () => {
    asked.length = 0;
    const send = httpsWebhookSender({ ca: cert, resolve: resolver, allowLoopback: true });
    expect(await send(post(`https://localhost:${port}/hook`))).toBe(204);
    expect(asked).toEqual(["localhost"]);
    expect(connections).toBe(1);
  });

  it("refuses IP literals without resolving anything, loopback ones unless the local allowance is given", async () => {
    asked.length = 0;
    const send = httpsWebhookSender({ ca: cert, resolve: resolver });
    for (const literal of ["127.0.0.1", "169.254.169.254", "[::1]", "93.184.215.14", "2130706433"]) {
      await expect(send(post(`https://${literal}:${port}/hook`)), literal).rejects.toThrow(/a requester callback may not go to .*: .* is an IP address, not a name/);
    }
    const local = httpsWebhookSender({ ca: cert, resolve: resolver, allowLoopback: true });
    await expect(local(post(`https://169.254.169.254:${port}/hook`))).rejects.toThrow("is a private, link-local or otherwise non-public address");
    expect(await local(post(`https://127.0.0.1:${port}/hook`))).toBe(204);
    expect(asked).toEqual([]);
    expect(connections).toBe(1);
  });

  it("refuses a URL past 2048 bytes, and reads an answer's body no further than its cap", async () => {
    const send = httpsWebhookSender({ ca: cert, resolve: resolver, allowLoopback: true });
    await expect(send(post(`https://localhost:${port}/${"a".repeat(2048)}`))).rejects.toThrow("a requester callback URL is at most 2048 bytes");
    endless = true;
    // A body that never ends: the status is what counts, long before the 5 s timeout.
    expect(await send(post(`https://localhost:${port}/hook`))).toBe(200);
  });
});
