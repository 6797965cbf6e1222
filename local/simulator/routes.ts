/** Which endpoint a request is for (Kling's API documentation: the legacy `/v1` standard and the new path-based one). */
import type { KlingTaskKind } from "#lambdas/kling/port";
import { TASK_KINDS, type TaskKind } from "#lambdas/kling/wire";
import { NEW_TASK_KINDS, type NewTaskKind } from "#lambdas/kling/wire-v2";

export type Route =
  /** `model`: the new standard's path segment (the legacy standard names it in the body). */
  | { readonly kind: "create"; readonly taskKind: KlingTaskKind; readonly model?: string }
  | { readonly kind: "query"; readonly taskKind: TaskKind; readonly id: string }
  /** `GET /tasks?task_ids=...` or `?external_task_ids=...`. */
  | { readonly kind: "query"; readonly standard: "new" }
  | { readonly kind: "list"; readonly taskKind: TaskKind }
  /** `POST /tasks`, by cursor. */
  | { readonly kind: "list"; readonly standard: "new" }
  | { readonly kind: "account" }
  | { readonly kind: "video"; readonly videoId: string }
  | { readonly kind: "other"; readonly code: 1202 | 1203; readonly message: string };

const WRONG_METHOD: Route = { kind: "other", code: 1202, message: "Request method is not supported for this path" };
const NOT_FOUND: Route = { kind: "other", code: 1203, message: "Requested resource not found" };

export function routeOf(method: string, pathname: string): Route {
  const video = /^\/videos\/([^/]+)\.mp4$/.exec(pathname);
  if (video) {
    const videoId = decoded(video[1]);
    if (videoId === undefined) return NOT_FOUND;
    return method === "GET" ? { kind: "video", videoId } : WRONG_METHOD;
  }

  if (pathname === "/account/costs") return method === "GET" ? { kind: "account" } : WRONG_METHOD;
  if (pathname === "/tasks") {
    if (method === "GET") return { kind: "query", standard: "new" };
    return method === "POST" ? { kind: "list", standard: "new" } : WRONG_METHOD;
  }

  const created = /^\/([^/]+)\/([^/]+)$/.exec(pathname);
  if (created && isNewTaskKind(created[1])) {
    const model = decoded(created[2]);
    if (model === undefined) return NOT_FOUND;
    return method === "POST" ? { kind: "create", taskKind: created[1], model } : WRONG_METHOD;
  }

  const tasks = /^\/v1\/videos\/([^/]+)(?:\/([^/]+))?\/?$/.exec(pathname);
  if (!tasks) return NOT_FOUND;
  const [, kindSegment, idSegment] = tasks;
  if (!isTaskKind(kindSegment)) {
    return { kind: "other", code: 1203, message: `Requested resource not found: no video endpoint ${kindSegment}` };
  }
  if (idSegment !== undefined) {
    const id = decoded(idSegment);
    if (id === undefined) return NOT_FOUND;
    return method === "GET" ? { kind: "query", taskKind: kindSegment, id } : WRONG_METHOD;
  }
  if (method === "POST") return { kind: "create", taskKind: kindSegment };
  if (method === "GET") return { kind: "list", taskKind: kindSegment };
  return WRONG_METHOD;
}

/** Whether a route belongs to the new standard (API key only there). */
export function isNewStandardRoute(route: Route): boolean {
  return ("standard" in route && route.standard === "new") || (route.kind === "create" && isNewTaskKind(route.taskKind));
}

function isTaskKind(value: string): value is TaskKind {
  return (TASK_KINDS as readonly string[]).includes(value);
}

function isNewTaskKind(value: string): value is NewTaskKind {
  return (NEW_TASK_KINDS as readonly string[]).includes(value);
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
