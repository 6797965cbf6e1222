/**
 * The VideoSource on Lambda and locally: an HTTP GET of Kling's video URL, streamed. Only over
 * https from Kling's CDN hosts (the download policy), and no redirect to another host is
 * followed: whoever could put a URL in front of Archive still cannot make it fetch anything else.
 */
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { DownloadPolicy } from "./settings";
import type { VideoDownload, VideoSource } from "./archive";
import { ArchiveError } from "./archive-error";

/** What Kling's CDN answers for a video it no longer has (it purges videos 30 days after the task). */
const PURGED_STATUSES = new Set([403, 404, 410]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Redirects followed on Kling's own host before the download is given up. */
const MAX_REDIRECTS = 3;

/** Whether a host is one of the policy's: the name itself, or a name under a `*.` domain. */
function hostAllowed(patterns: readonly string[], host: string): boolean {
  return patterns.some((pattern) => (pattern.startsWith("*.") ? host.endsWith(pattern.slice(1)) : host === pattern));
}

/** Why Archive will not fetch this URL, or undefined when it may. */
export function downloadRefusal(policy: Pick<DownloadPolicy, "hosts" | "localHost">, url: string): string | undefined {
  if (!URL.canParse(url)) return `${JSON.stringify(url)} is not a URL`;
  const target = new URL(url);
  if (policy.localHost !== undefined && target.hostname === policy.localHost && (target.protocol === "http:" || target.protocol === "https:")) return undefined;
  if (target.protocol !== "https:") return `${target.origin} is not https`;
  if (!hostAllowed(policy.hosts, target.hostname)) return `${target.hostname} is not one of videoArchive.downloadHosts (${policy.hosts.join(", ")})`;
  return undefined;
}

function refused(url: string, reason: string): ArchiveError {
  return new ArchiveError("Archive.DownloadFailed", `Archive will not download ${url}: ${reason}`);
}

export class HttpVideoSource implements VideoSource {
  /** `connectMs` bounds the wait for each answer's headers; the body has its own stall timeout. */
  constructor(
    private readonly connectMs: number,
    private readonly policy: Pick<DownloadPolicy, "hosts" | "localHost">,
  ) {}

  async open(url: string): Promise<VideoDownload> {
    let target = url;
    for (let redirects = 0; ; redirects++) {
      const refusal = downloadRefusal(this.policy, target);
      if (refusal) throw refused(target, refusal);
      const response = await this.get(target);
      if (!REDIRECT_STATUSES.has(response.status)) return this.downloadOf(target, response);
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (location === null || redirects >= MAX_REDIRECTS) {
        throw new ArchiveError("Archive.DownloadFailed", `Kling's URL ${target} answered ${response.status} ${location === null ? "without a Location" : `past ${MAX_REDIRECTS} redirects`}`);
      }
      const next = new URL(location, target);
      if (next.host !== new URL(target).host) throw refused(url, `it redirects to another host (${next.host}), and Archive follows no redirect off Kling's host`);
      target = next.href;
    }
  }

  private async get(url: string): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.connectMs} ms`)), this.connectMs);
    try {
      return await fetch(url, { signal: controller.signal, redirect: "manual" });
    } catch (error) {
      throw ArchiveError.downloadBrokeOff(url, error instanceof Error && error.cause instanceof Error ? error.cause : error);
    } finally {
      clearTimeout(timer);
    }
  }

  private async downloadOf(url: string, response: Response): Promise<VideoDownload> {
    if (PURGED_STATUSES.has(response.status)) {
      await response.body?.cancel();
      throw new ArchiveError("Archive.VideoPurged", `Kling's URL ${url} answered ${response.status}: the video is no longer there`);
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new ArchiveError("Archive.DownloadFailed", `Kling's URL ${url} answered ${response.status}`);
    }
    const length = response.headers.get("content-length");
    return {
      body: Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      announcedBytes: length === null ? undefined : Number(length),
    };
  }
}
