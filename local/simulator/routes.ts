/** Which endpoint a request is for (Kling's API documentation: the legacy `/v1` standard and the new path-based one; endpoints.ts lists them). */
import { IDENTIFY_FACE_PATH, isNewKind, LEGACY_KIND_PATHS, LEGACY_KINDS, type CreateKind, type LegacyKind } from "./endpoints";

export type Route =
  /** `model`: the new standard's path segment (the legacy standard names it in the body). */
  | { readonly kind: "create"; readonly taskKind: CreateKind; readonly model?: string }
  | { readonly kind: "query"; readonly taskKind: LegacyKind; readonly id: string }
  /** `GET /tasks?task_ids=...` or `?external_task_ids=...`. */
  | { readonly kind: "query"; readonly standard: "new" }
  | { readonly kind: "list"; readonly taskKind: LegacyKind }
  /** `POST /tasks`, by cursor. */
  | { readonly kind: "list"; readonly standard: "new" }
  | { readonly kind: "account" }
  | { readonly kind: "video"; readonly videoId: string }
  | { readonly kind: "audio"; readonly audioId: string; readonly format: "mp3" | "wav" }
  /** The image of a face lip-sync's identification found. */
  | { readonly kind: "face"; readonly sessionId: string; readonly faceId: string }
  | { readonly kind: "other"; readonly code: 1202 | 1203; readonly message: string };

const WRONG_METHOD: Route = { kind: "other", code: 1202, message: "Request method is not supported for this path" };
const NOT_FOUND: Route = { kind: "other", code: 1203, message: "Requested resource not found" };

// Longest paths first, so /v1/videos/avatar/image2video is not read as a query of "avatar".
const LEGACY_BY_LENGTH = [...LEGACY_KINDS].sort((a, b) => LEGACY_KIND_PATHS[b].length - LEGACY_KIND_PATHS[a].length);

export function routeOf(method: string, pathname: string): Route {
  const video = /^\/videos\/([^/]+)\.mp4$/.exec(pathname);
  if (video) {
    const videoId = decoded(video[1]);
    if (videoId === undefined) return NOT_FOUND;
    return method === "GET" ? { kind: "video", videoId } : WRONG_METHOD;
  }
  const audio = /^\/audios\/([^/]+)\.(mp3|wav)$/.exec(pathname);
  if (audio) {
    const audioId = decoded(audio[1]);
    if (audioId === undefined) return NOT_FOUND;
    return method === "GET" ? { kind: "audio", audioId, format: audio[2] === "mp3" ? "mp3" : "wav" } : WRONG_METHOD;
  }

  const face = /^\/faces\/([^/]+)\/([^/]+)\.png$/.exec(pathname);
  if (face) {
    const sessionId = decoded(face[1]);
    const faceId = decoded(face[2]);
    if (sessionId === undefined || faceId === undefined) return NOT_FOUND;
    return method === "GET" ? { kind: "face", sessionId, faceId } : WRONG_METHOD;
  }

  if (pathname === "/account/costs") return method === "GET" ? { kind: "account" } : WRONG_METHOD;
  if (pathname === "/tasks") {
    if (method === "GET") return { kind: "query", standard: "new" };
    return method === "POST" ? { kind: "list", standard: "new" } : WRONG_METHOD;
  }
  if (pathname === IDENTIFY_FACE_PATH) return method === "POST" ? { kind: "create", taskKind: "identify-face" } : WRONG_METHOD;

  const created = /^\/([^/]+)\/([^/]+)$/.exec(pathname);
  if (created?.[1] !== undefined && isNewKind(created[1])) {
    const model = decoded(created[2]);
    if (model === undefined) return NOT_FOUND;
    return method === "POST" ? { kind: "create", taskKind: created[1], model } : WRONG_METHOD;
  }

  const trimmed = pathname.replace(/\/$/, "");
  for (const taskKind of LEGACY_BY_LENGTH) {
    const base = LEGACY_KIND_PATHS[taskKind];
    if (trimmed === base) {
      if (method === "POST") return { kind: "create", taskKind };
      return method === "GET" ? { kind: "list", taskKind } : WRONG_METHOD;
    }
    const tail = trimmed.startsWith(`${base}/`) ? trimmed.slice(base.length + 1) : undefined;
    if (tail !== undefined && !tail.includes("/")) {
      const id = decoded(tail);
      if (id === undefined) return NOT_FOUND;
      return method === "GET" ? { kind: "query", taskKind, id } : WRONG_METHOD;
    }
  }
  const unknown = /^\/v1\/videos\/([^/]+)/.exec(pathname);
  if (unknown) return { kind: "other", code: 1203, message: `Requested resource not found: no video endpoint ${unknown[1]}` };
  return NOT_FOUND;
}

/** Whether a route belongs to the new standard (API key only there). */
export function isNewStandardRoute(route: Route): boolean {
  return ("standard" in route && route.standard === "new") || (route.kind === "create" && isNewKind(route.taskKind));
}

/** The ids a new-standard query names (`task_ids` or `external_task_ids`). */
export function queriedIds(query: URLSearchParams): string[] {
  return (query.get("task_ids") ?? query.get("external_task_ids") ?? "").split(",").filter((id) => id !== "");
}

function decoded(segment: string | undefined): string | undefined {
  if (segment === undefined) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
