/**
 * The callback URL Submit gives Kling for a task: the pipeline's callback route, the task's
 * `external_task_id`, and the capability token bound to that id, so a URL works for its own
 * task alone and cannot be guessed without the secret.
 */
import { capabilityToken } from "./capability-token";
import { CALLBACK_ENV } from "./settings";

/** The route's path under the base URL: `POST /kling/callbacks/{externalTaskId}/{token}` (lib/generation-api.ts). */
export const CALLBACK_ROUTE = ["kling", "callbacks"] as const;

export function callbackUrlFor(baseUrl: string, capabilityKey: string, externalTaskId: string): string {
  if (!URL.canParse(baseUrl)) throw new Error(`environment variable ${CALLBACK_ENV.baseUrl} is not a URL`);
  const path = [...CALLBACK_ROUTE, encodeURIComponent(externalTaskId), capabilityToken(capabilityKey, externalTaskId)].join("/");
  return `${baseUrl.replace(/\/+$/, "")}/${path}`;
}
