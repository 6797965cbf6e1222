/**
 * NotifyRequester against the ledger on dynalite, with a recording HTTP port: the payload of each
 * ending, its Standard Webhooks signature, retries on failure, and once per outcome.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { newWebhookSecret, verifyWebhook } from "#lambdas/common/standard-webhooks";
import { diagnose } from "#lambdas/diagnose/diagnosis";
import type { WebhookPost } from "#lambdas/notify-requester/https-sender";
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
