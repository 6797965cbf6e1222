/**
 * The callback URL Submit gives Kling for a task: the pipeline's callback route, the task's
 * `external_task_id`, and the capability token bound to that id and to an expiry, so a URL works
 * for its own task alone, cannot be guessed without the key, and stops working once the task's
 * wait is long over: {@link CALLBACK_TOKEN_GRACE_SECONDS} after its poll deadline.
 */
import { capabilityToken } from "./capability-token";
import { CALLBACK_ENV } from "./settings";

/** The route's path under the base URL: `POST /kling/callbacks/{externalTaskId}/{token}` (lib/generation-api.ts). */
export const CALLBACK_ROUTE = ["kling", "callbacks"] as const;

/**
 * How long past the task's poll deadline its callback URL still works: Kling's callback of an end
 * just before the deadline, delivered late or sent again, and clocks that differ by a few minutes.
 */
export const CALLBACK_TOKEN_GRACE_SECONDS = 900;

/** When the callback URL of a task submitted at `submittedAtMs` with this poll deadline stops working (epoch ms). */
export function callbackTokenExpiry(submittedAtMs: number, pollDeadlineSeconds: number): number {
  return submittedAtMs + (pollDeadlineSeconds + CALLBACK_TOKEN_GRACE_SECONDS) * 1000;
}

export function callbackUrlFor(baseUrl: string, capabilityKey: string, externalTaskId: string, expiresAtMs: number): string {
  if (!URL.canParse(baseUrl)) throw new Error(`environment variable ${CALLBACK_ENV.baseUrl} is not a URL`);
  const path = [...CALLBACK_ROUTE, encodeURIComponent(externalTaskId), capabilityToken(capabilityKey, externalTaskId, expiresAtMs)].join("/");
  return `${baseUrl.replace(/\/+$/, "")}/${path}`;
}
