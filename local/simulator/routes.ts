/** Which endpoint a request is for (Kling's legacy `/v1` standard API). */
import { TASK_KINDS, type TaskKind } from "../../lambdas/kling/wire";

export type Route =
  | { readonly kind: "create"; readonly taskKind: TaskKind }
  | { readonly kind: "query"; readonly taskKind: TaskKind; readonly id: string }
  | { readonly kind: "list"; readonly taskKind: TaskKind }
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

function isTaskKind(value: string): value is TaskKind {
  return (TASK_KINDS as readonly string[]).includes(value);
}

function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
