/** Helpers for tests that drive the simulator: a hand-moved clock, JWTs, images, plain HTTP calls. */
import { createHmac } from "node:crypto";
import type { Clock } from "#lambdas/common/clock";
import { syntheticWav } from "./audio";
import type { CallbackScheduler } from "./callbacks";
import type { Simulator } from "./server";

export interface ManualClock extends Clock, CallbackScheduler {
  /** Moves time on, firing each timer due on the way at its own instant, in order. */
  advanceSeconds(seconds: number): void;
}

export function manualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let current = startMs;
  let timers: { readonly at: number; readonly order: number; readonly fire: () => void }[] = [];
  let order = 0;
  return {
    now: () => current,
    after(seconds, fire) {
      const timer = { at: current + seconds * 1000, order: order++, fire };
      timers.push(timer);
      return () => {
        timers = timers.filter((other) => other !== timer);
      };
    },
    advanceSeconds(seconds) {
      const until = current + seconds * 1000;
      for (;;) {
        const due = timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at || a.order - b.order)[0];
        if (!due) break;
        timers = timers.filter((timer) => timer !== due);
        current = Math.max(current, due.at);
        due.fire();
      }
      current = until;
    },
  };
}

interface JwtFields {
  readonly accessKey: string;
  readonly secretKey: string;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  readonly lifetimeSeconds?: number;
  /** Seconds added to `issuedAt` for `nbf`; Kling clients use -5. */
  readonly notBeforeOffset?: number;
}

/** An HS256 JWT as Kling's API documentation describes it (iss = AccessKey, exp, nbf). */
export function signJwt(fields: JwtFields): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = encode({ alg: "HS256", typ: "JWT" });
  const payload = encode({
    iss: fields.accessKey,
    exp: fields.issuedAt + (fields.lifetimeSeconds ?? 1800),
    nbf: fields.issuedAt + (fields.notBeforeOffset ?? -5),
  });
  const signature = createHmac("sha256", fields.secretKey).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

/** The base64 of a PNG header of the given size: enough for the simulator's image rules. */
export function pngBase64(width: number, height: number): string {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes, 0);
  bytes.writeUInt32BE(13, 8);
  bytes.write("IHDR", 12, "ascii");
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  return bytes.toString("base64");
}

/** The base64 of a JPEG header (SOI, an APP0 segment, SOF0) of the given size. */
export function jpegBase64(width: number, height: number): string {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
  const sof0 = Buffer.alloc(19);
  sof0.writeUInt16BE(0xffc0, 0);
  sof0.writeUInt16BE(17, 2);
  sof0.writeUInt8(8, 4);
  sof0.writeUInt16BE(height, 5);
  sof0.writeUInt16BE(width, 7);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof0]).toString("base64");
}

/** The base64 of a real WAV of this many seconds: an audio the simulator's rules read the duration of (avatar, lip-sync). */
export function wavBase64(seconds: number): string {
  return syntheticWav("test speech", seconds).toString("base64");
}

interface CallOptions {
  readonly method?: string;
  /** The bearer token; no Authorization header when null. */
  readonly token?: string | null;
  /** A raw Authorization header, instead of `Bearer <token>`. */
  readonly authorization?: string;
  readonly body?: unknown;
}

export interface CallResult {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  /** The parsed body, or undefined when it is not JSON. */
  readonly json: unknown;
}

/** A plain fetch to the simulator, with its dev API key unless told otherwise. */
export async function call(simulator: Simulator, path: string, options: CallOptions = {}): Promise<CallResult> {
  const token = options.token === undefined ? defaultToken(simulator) : options.token;
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  else if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${simulator.baseUrl}${path}`, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers,
    ...(options.body === undefined ? {} : { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, contentType: response.headers.get("content-type"), text, json };
}

function defaultToken(simulator: Simulator): string | null {
  for (const credentials of simulator.credentials) {
    if ("apiKey" in credentials) return credentials.apiKey;
  }
  return null;
}
