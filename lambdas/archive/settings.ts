/**
 * Archive's settings, read from the variables the stack sets (names and defaults in
 * lambdas/common/settings.ts). Only Archive reads them: they are not in the shared
 * HandlerSettings, so no other bundle carries them. A bad value names its variable.
 */
import * as z from "zod";
import { type Environment, parseJsonVariable, readVariable } from "../common/config";
import { DEFAULTS, DOWNLOAD_DEFAULTS, DOWNLOAD_ENV, ENV } from "../common/settings";

/**
 * A host Archive may download from: a name (`cdn.klingai.com`), or `*.` and a domain for any
 * name under it (`*.klingai.com` takes `v15-kling.klingai.com`, not `klingai.com` itself).
 */
export const downloadHostSchema = z
  .string()
  .regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, "must be a host name in lowercase, or *. and a domain");

/** Where Archive may download from, and how much. */
export interface DownloadPolicy {
  /** Over https only, from these hosts ({@link downloadHostSchema}). */
  readonly hosts: readonly string[];
  /** Locally only: one more host, on any port, over http too (DOWNLOAD_ENV.localVideoHost). */
  readonly localHost: string | undefined;
  /** A video past this many bytes is refused, announced or counted. */
  readonly maxBytes: number;
}

export interface ArchiveSettings {
  /** Whether to keep Kling's watermarked copy too. */
  readonly archiveWatermarked: boolean;
  /** A download with no byte for this long is given up. */
  readonly stallMs: number;
  readonly downloads: DownloadPolicy;
}

function downloadPolicy(env: Environment): DownloadPolicy {
  const hosts = readVariable(env, DOWNLOAD_ENV.downloadHosts) === undefined ? DOWNLOAD_DEFAULTS.downloadHosts : parseJsonVariable(env, DOWNLOAD_ENV.downloadHosts, z.array(downloadHostSchema).min(1));
  const maxText = readVariable(env, DOWNLOAD_ENV.maxVideoBytes);
  const maxBytes = maxText === undefined ? DOWNLOAD_DEFAULTS.maxVideoBytes : Number(maxText);
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new Error(`environment variable ${DOWNLOAD_ENV.maxVideoBytes} must be a positive whole number of bytes`);
  const localHost = readVariable(env, DOWNLOAD_ENV.localVideoHost);
  if (localHost !== undefined && (!URL.canParse(`http://${localHost}`) || new URL(`http://${localHost}`).hostname !== localHost)) {
    throw new Error(`environment variable ${DOWNLOAD_ENV.localVideoHost} must be a host name or address alone (no scheme, port or path)`);
  }
  return { hosts, localHost, maxBytes };
}

export function archiveSettings(env: Environment): ArchiveSettings {
  const stallText = readVariable(env, ENV.downloadStallMs);
  const stallMs = stallText === undefined ? DEFAULTS.videoArchive.downloadStallMs : Number(stallText);
  if (!Number.isInteger(stallMs) || stallMs <= 0) {
    throw new Error(`environment variable ${ENV.downloadStallMs} must be a positive whole number of milliseconds`);
  }
  const watermarked = readVariable(env, ENV.archiveWatermarked) ?? String(DEFAULTS.videoArchive.archiveWatermarked);
  if (watermarked !== "true" && watermarked !== "false") throw new Error(`environment variable ${ENV.archiveWatermarked} must be true or false`);
  return { archiveWatermarked: watermarked === "true", stallMs, downloads: downloadPolicy(env) };
}
