/**
 * Keeps a finished video on this machine: the simulator's URL dies with the command, Kling's
 * after 30 days (KLING_API.md). Until videos are archived to S3, the bytes go to the state directory.
 */
import { writeFile } from "node:fs/promises";

const DOWNLOAD_TIMEOUT_MS = 120_000;

export type KeptVideo = { readonly file: string } | { readonly notSaved: string };

export async function keepVideo(url: string, file: string): Promise<KeptVideo> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (!response.ok) return { notSaved: `the download answered HTTP ${response.status}` };
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    return { file };
  } catch (error) {
    return { notSaved: error instanceof Error ? error.message : String(error) };
  }
}

/** The `video:` line: the saved file, or the URL, how long it lasts, and why it was not saved. */
export function describeVideo(url: string, kept: KeptVideo, fromSimulator: boolean): string {
  const lasts = fromSimulator ? "the simulator serves it until this command exits" : "Kling purges it 30 days after it was made";
  return "file" in kept ? `video: ${kept.file}` : `video: ${url} (not saved: ${kept.notSaved}; ${lasts})`;
}
