/**
 * Kling's callbacks: a task created with a callback URL (legacy `callback_url`, new standard
 * `options.callback_url`) is POSTed to that URL at each change of its status (submitted,
 * processing, then succeed or failed), as the query endpoint shows the task right after the
 * change. Each callback is scheduled on the simulated clock at the instant its status changes,
 * and sent without holding up the simulator's own answers. When a signing secret is configured
 * the callbacks carry Standard Webhooks headers. A fault plan can drop, duplicate, delay,
 * reorder or mis-sign any callback. Nothing is retried (Kling documents no retries); a receiver
 * that is down or answers non-2xx is counted, never thrown at. Only receivers on this machine
 * are called: a callback URL elsewhere is counted as failed, not sent.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { Clock } from "#lambdas/common/clock";
import type { CallbackFault, CallbackFaultKind, CallbackInfo } from "./faults";
import type { StatsRecorder } from "./stats";
import type { StatusChange, TaskStatus } from "./tasks";

/** Real ms a receiver has to answer a callback before it counts as failed. */
const DELIVERY_TIMEOUT_MS = 10_000;
/** Real ms between two looks at a clock that cannot set timers of its own. */
const CLOCK_POLL_MS = 25;
/** The key a mis-signed callback is signed with: not the configured secret's. */
const WRONG_KEY = Buffer.from("not the callback signing secret");
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Timers on the simulated clock: a local runner's clock (LocalClock) is one. */
export interface CallbackScheduler {
  /** Calls `fire` once this many simulated seconds have passed; returns a function that cancels it. */
  after(seconds: number, fire: () => void): () => void;
  /**
   * Runs one delivery (its POSTs, until their answers came): a virtual clock holds time still
   * meanwhile. The receiver must answer without waiting for work of its own on the same clock.
   */
  work?<T>(delivery: () => Promise<T>): Promise<T>;
}

/** One callback delivery (or a callback not sent), for a log line. */
export interface CallbackLogEntry {
  readonly url: string;
  readonly taskId: string;
  readonly externalTaskId?: string | undefined;
  /** The status the callback reports. */
  readonly taskStatus: TaskStatus;
  readonly webhookId: string;
  /** The receiver's HTTP status; undefined when nothing answered (see `error`). */
  readonly status: number | undefined;
  /** Why the callback did not reach the receiver: dropped by the plan, connection refused, timed out, not on this machine. */
  readonly error?: string;
  readonly fault?: CallbackFaultKind;
}

/** A task whose status changes are called back. */
export interface FollowedTask {
  readonly taskId: string;
  readonly externalTaskId: string | undefined;
  readonly callbackUrl: string;
  readonly changes: readonly StatusChange[];
  /** The JSON the callback of this change carries. */
  body(change: StatusChange): string;
}

export interface CallbackPorts {
  readonly clock: Clock;
  readonly scheduler: CallbackScheduler;
  /** The decoded `whsec_` secret; unsigned callbacks without it. */
  readonly signingKey: Buffer | undefined;
  readonly faultFor: (callback: CallbackInfo) => CallbackFault | undefined;
  readonly stats: StatsRecorder;
  readonly onCallback: ((entry: CallbackLogEntry) => void) | undefined;
}

/** Queues messages for delivery, in the background. */
type Send = (messages: readonly Message[]) => void;

interface Message {
  readonly url: string;
  readonly webhookId: string;
  readonly body: string;
  readonly info: CallbackInfo;
  readonly fault?: CallbackFaultKind;
}

export class CallbackSender {
  private readonly cancels = new Set<() => void>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly closing = new AbortController();

  constructor(private readonly ports: CallbackPorts) {}

  /** Schedules the callback of each of the task's status changes, at the instant it happens. */
  follow(task: FollowedTask): void {
    /** Reordered callbacks, sent after the next status's own. */
    let held: Message[] = [];
    /** A task's deliveries go one after the other, so its receiver gets them in the order they were sent. */
    let queue = Promise.resolve();
    const send: Send = (messages) => {
      if (messages.length === 0) return;
      // Timestamped when the simulator sends them, not when an earlier delivery let them go.
      const sentAt = this.ports.clock.now();
      queue = queue.then(() => this.delivery(messages, sentAt));
      const delivery = queue.finally(() => this.deliveries.delete(delivery));
      this.deliveries.add(delivery);
    };
    const now = this.ports.clock.now();
    task.changes.forEach((change, index) => {
      this.after((change.at - now) / 1000, () => {
        const info: CallbackInfo = { taskId: task.taskId, externalTaskId: task.externalTaskId, status: change.status };
        const message: Message = { url: task.callbackUrl, webhookId: `msg_${randomUUID()}`, body: task.body(change), info };
        const earlier = held;
        held = [];
        const fault = this.ports.faultFor(info);
        if (fault?.kind === "reorder" && index < task.changes.length - 1) {
          this.ports.stats.countCallback("reordered");
          held.push({ ...message, fault: "reorder" });
          send(earlier);
          return;
        }
        this.dispatch(message, fault, earlier, send);
      });
    });
  }

  /** Resolves once every delivery under way has ended (callbacks not yet due are not waited for). */
  async settle(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.all([...this.deliveries]);
  }

  /** Cancels the callbacks not yet due and aborts the deliveries under way. */
  close(): void {
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
    this.closing.abort();
  }

  private after(seconds: number, fire: () => void): void {
    const cancel = this.ports.scheduler.after(Math.max(0, seconds), () => {
      this.cancels.delete(cancel);
      fire();
    });
    this.cancels.add(cancel);
  }

  /** Sends the callback as its fault says, then the earlier ones held back for it. */
  private dispatch(message: Message, fault: CallbackFault | undefined, earlier: readonly Message[], send: Send): void {
    const { stats } = this.ports;
    switch (fault?.kind) {
      case undefined:
      case "reorder":
        // A task's last status has nothing to come after: it goes as it is.
        return send([message, ...earlier]);
      case "drop":
        stats.countCallback("dropped");
        this.log({ ...message, fault: "drop" }, undefined, "dropped by the fault plan");
        return send(earlier);
      case "duplicate":
        stats.countCallback("duplicated");
        return send([{ ...message, fault: "duplicate" }, { ...message, fault: "duplicate" }, ...earlier]);
      case "mis-sign":
        stats.countCallback("misSigned");
        return send([{ ...message, fault: "mis-sign" }, ...earlier]);
      case "delay":
        stats.countCallback("delayed");
        return this.after(fault.seconds, () => send([{ ...message, fault: "delay" }, ...earlier]));
    }
  }

  /** Posts the messages one after the other, as the scheduler's work when it has a work(). */
  private delivery(messages: readonly Message[], sentAt: number): Promise<void> {
    const run = async () => {
      for (const message of messages) await this.post(message, sentAt);
    };
    return this.ports.scheduler.work ? this.ports.scheduler.work(run) : run();
  }

  private async post(message: Message, sentAt: number): Promise<void> {
    const { stats } = this.ports;
    if (this.closing.signal.aborted) return;
    if (!LOOPBACK_HOSTS.has(new URL(message.url).hostname)) {
      stats.countCallback("failed");
      this.log(message, undefined, "not sent: the simulator calls back only to 127.0.0.1 or localhost");
      return;
    }
    stats.countCallback("sent");
    try {
      const response = await fetch(message.url, {
        method: "POST",
        headers: this.headers(message, sentAt),
        body: message.body,
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
      });
      await response.body?.cancel();
      if (!response.ok) stats.countCallback("failed");
      this.log(message, response.status);
    } catch (error) {
      stats.countCallback("failed");
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      this.log(message, undefined, cause instanceof Error ? cause.message : String(cause));
    }
  }

  /** JSON, and Standard Webhooks' headers when signing (a mis-signed callback is signed even when signing is off). */
  private headers(message: Message, sentAt: number): Record<string, string> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const key = message.fault === "mis-sign" ? WRONG_KEY : this.ports.signingKey;
    if (key === undefined) return headers;
    const timestamp = Math.floor(sentAt / 1000);
    headers["webhook-id"] = message.webhookId;
    headers["webhook-timestamp"] = String(timestamp);
    headers["webhook-signature"] = `v1,${webhookSignature(key, message.webhookId, timestamp, message.body)}`;
    return headers;
  }

  private log(message: Message, status: number | undefined, error?: string): void {
    const { info } = message;
    this.ports.onCallback?.({
      url: message.url,
      taskId: info.taskId,
      externalTaskId: info.externalTaskId,
      taskStatus: info.status,
      webhookId: message.webhookId,
      status,
      ...(error === undefined ? {} : { error }),
      ...(message.fault === undefined ? {} : { fault: message.fault }),
    });
  }
}

/** Standard Webhooks: base64 HMAC-SHA256 over `{id}.{timestamp}.{body}` with the decoded secret. */
function webhookSignature(key: Buffer, webhookId: string, timestamp: number, body: string): string {
  return createHmac("sha256", key).update(`${webhookId}.${timestamp}.${body}`).digest("base64");
}

/** The key of a `whsec_<base64>` secret; undefined when the secret is not one. */
export function signingKeyOf(secret: string): Buffer | undefined {
  const encoded = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : "";
  const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/;
  return base64.test(encoded) ? Buffer.from(encoded, "base64") : undefined;
}

/**
 * Timers on any clock, for a simulator given none: each fires once the clock reads its
 * instant, looked at every few real ms (a scaled clock's seconds are shorter than real ones).
 */
export function clockTimers(clock: Clock): CallbackScheduler {
  interface Pending {
    readonly at: number;
    readonly order: number;
    readonly fire: () => void;
  }
  let pending: Pending[] = [];
  let order = 0;
  let timer: NodeJS.Timeout | undefined;
  const earliest = () => pending.reduce<Pending | undefined>((best, p) => (!best || p.at < best.at || (p.at === best.at && p.order < best.order) ? p : best), undefined);
  const arm = () => {
    const next = earliest();
    if (timer !== undefined || next === undefined) return;
    timer = setTimeout(fireDue, Math.min(Math.max(0, next.at - clock.now()), CLOCK_POLL_MS));
    timer.unref();
  };
  const fireDue = () => {
    timer = undefined;
    for (let next = earliest(); next !== undefined && next.at <= clock.now(); next = earliest()) {
      const due = next;
      pending = pending.filter((p) => p !== due);
      due.fire();
    }
    arm();
  };
  return {
    after(seconds, fire) {
      const entry: Pending = { at: clock.now() + seconds * 1000, order: order++, fire };
      pending.push(entry);
      arm();
      return () => {
        pending = pending.filter((p) => p !== entry);
      };
    },
  };
}
