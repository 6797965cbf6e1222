/**
 * NotifyRequester: when a generation ends (the rule on the state machine's "Step Functions
 * Execution Status Change" events, beside the ledger's backstop), posts its outcome to the
 * request's `callbackUrl`, if it has one, signed the Standard Webhooks way. At most once per
 * outcome: the delivery is claimed in the ledger under its webhook-id first and recorded there
 * after a 2xx, so a repeated event or a retry of a delivered outcome sends nothing. A non-2xx or
 * network failure throws, and Lambda's asynchronous retries (then the dead-letter queue) take over.
 */
import { randomUUID } from "node:crypto";
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import * as z from "zod";
import { type Clock, wallClock } from "../common/clock";
import { type Environment, millisecondsVariable } from "../common/config";
import { parseEvent } from "../common/parse-event";
import { DEFAULTS, ENV } from "../common/settings";
import { signWebhook } from "../common/standard-webhooks";
import type { Ledger } from "../ledger/ledger";
import { dynamoDbLedgerFrom } from "../ledger/ports";
import { logger, observed } from "../observability/logger";
import { ENDED_STATUSES, EXECUTION_STATUS_CHANGE } from "../release-slot/status-change";
import { type WebhookSender, httpsWebhookSender } from "./https-sender";
import { type EndedExecution, notificationOf, webhookIdOf } from "./notification";
import { signingSecretFrom } from "./signing-secret";

/** How long a delivered outcome is remembered: past every retry (6 h) and repeated event of it. */
const KEEP_DELIVERED_MS = 7 * 24 * 3600 * 1000;
/** A claim outlives the POST's timeout by this much before another attempt may take it over. */
const CLAIM_MARGIN_MS = 60_000;

/** The execution's input and output in full, for an event that left them out (past 248 KB, EventBridge's quota). */
export type ExecutionData = (executionArn: string) => Promise<{ readonly input: string | undefined; readonly output: string | undefined }>;

export interface NotifyPorts {
  readonly clock: Clock;
  readonly ledger: () => Ledger;
  readonly signingSecret: () => Promise<string>;
  readonly send: WebhookSender;
  readonly executionData: ExecutionData;
  readonly timeoutMs: () => number;
}

const includedSchema = z.object({ included: z.boolean() }).optional();
const optionalText = z.string().nullish().transform((text) => text ?? undefined);

/** The event as EventBridge delivers it: input and output as JSON text unless too large. */
const endedEventSchema = z.object({
  "detail-type": z.literal(EXECUTION_STATUS_CHANGE),
  time: z.string().min(1),
  detail: z.object({
    executionArn: z.string().min(1),
    name: z.string().min(1),
    status: z.enum(ENDED_STATUSES),
    redriveCount: z.number().int().min(0).default(0),
    input: optionalText,
    inputDetails: includedSchema,
    output: optionalText,
    outputDetails: includedSchema,
    error: optionalText,
    cause: optionalText,
  }),
});

/** What the requester sent: only the callback URL matters here (Validate checked it is https). */
const requestedCallbackSchema = z.object({ callbackUrl: z.url() });

export type NotifyOutcome =
  | { readonly outcome: "no-callback" }
  | { readonly outcome: "already-delivered"; readonly webhookId: string }
  | { readonly outcome: "delivered"; readonly webhookId: string; readonly status: number };

/** Thrown for a delivery to retry: a non-2xx answer, a network failure, or another attempt still sending. */
export class RequesterNotificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequesterNotificationError";
  }
}

function callbackUrlOf(input: string | undefined): string | undefined {
  try {
    const parsed = requestedCallbackSchema.safeParse(JSON.parse(input ?? "null"));
    return parsed.success ? parsed.data.callbackUrl : undefined;
  } catch {
    return undefined;
  }
}

async function notify(ports: NotifyPorts, event: unknown): Promise<NotifyOutcome> {
  const { time, detail } = parseEvent(endedEventSchema, event, "NotifyRequester");
  const excluded = detail.inputDetails?.included === false || detail.outputDetails?.included === false;
  const full = excluded ? await ports.executionData(detail.executionArn) : { input: detail.input, output: detail.output };
  const callbackUrl = callbackUrlOf(full.input);
  if (callbackUrl === undefined) return { outcome: "no-callback" };

  const execution: EndedExecution = { ...detail, endedAt: time, output: full.output };
  const webhookId = webhookIdOf(execution);
  const context = { generationId: detail.name, status: detail.status, redriveCount: detail.redriveCount, webhookId, callbackOrigin: new URL(callbackUrl).origin };
  const ledger = ports.ledger();
  const timeoutMs = ports.timeoutMs();
  const claimant = randomUUID();
  const claim = await ledger.claimNotification(webhookId, claimant, ports.clock.now(), ports.clock.now() + timeoutMs + CLAIM_MARGIN_MS);
  if (claim === "delivered") {
    logger().info("requester already notified of this outcome", context);
    return { outcome: "already-delivered", webhookId };
  }
  if (claim === "in-progress") throw new RequesterNotificationError(`another attempt is delivering ${webhookId} to the requester`);

  let status: number;
  try {
    const body = JSON.stringify(notificationOf(execution));
    const headers = signWebhook(await ports.signingSecret(), webhookId, ports.clock.now() / 1000, body);
    status = await ports.send({ url: callbackUrl, headers: { ...headers, "content-type": "application/json" }, body, timeoutMs });
  } catch (error) {
    await ledger.settleNotification(webhookId, claimant, false, ports.clock.now());
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    logger().warn("requester notification not delivered", { ...context, reason });
    throw new RequesterNotificationError(`could not notify the requester at ${context.callbackOrigin}: ${reason}`);
  }
  const delivered = status >= 200 && status < 300;
  await ledger.settleNotification(webhookId, claimant, delivered, ports.clock.now() + KEEP_DELIVERED_MS);
  if (!delivered) {
    logger().warn("requester notification refused", { ...context, httpStatus: status });
    throw new RequesterNotificationError(`the requester's callback at ${context.callbackOrigin} answered ${status}`);
  }
  logger().info("requester notified", { ...context, httpStatus: status });
  return { outcome: "delivered", webhookId, status };
}

export function notifyRequesterHandler(ports: NotifyPorts) {
  return observed((event: unknown) => notify(ports, event));
}

/** DescribeExecution's input and output, with a client made on first use. */
export function sfnExecutionData(): ExecutionData {
  let client: SFNClient | undefined;
  return async (executionArn) => {
    client ??= new SFNClient({});
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    return { input: described.input, output: described.output };
  };
}

/** The notifier's ports over an environment: on AWS, process.env; locally, the runner's. */
export function notifyPortsFrom(env: Environment, clock: Clock, send: WebhookSender, ledger: () => Ledger, executionData: ExecutionData): NotifyPorts {
  return {
    clock,
    ledger,
    signingSecret: signingSecretFrom(env, clock),
    send,
    executionData,
    timeoutMs: () => millisecondsVariable(env, ENV.requesterWebhookTimeoutMs, DEFAULTS.requesterWebhookTimeoutMs),
  };
}

export const handler = notifyRequesterHandler(
  notifyPortsFrom(process.env, wallClock, httpsWebhookSender(), dynamoDbLedgerFrom(process.env), sfnExecutionData()),
);
