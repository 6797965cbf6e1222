/**
 * The video bucket of a local pipeline: the embedded S3 on a directory that outlives the command
 * (`.kling-pipeline/videos` for `npm start`), or on a temporary one removed when it stops.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startVideoBucketServer, type VideoBucketServer } from "./video-bucket-server";

/** Where a succeeded execution's archived video sits on disk; undefined when it has none. */
export function savedVideoFile(bucket: Pick<VideoBucketServer, "pathOf">, output: unknown): string | undefined {
  const key = (output as { archive?: { video?: { key?: unknown } } } | null)?.archive?.video?.key;
  return typeof key === "string" ? bucket.pathOf(key) : undefined;
}

/** Starts the server: the local pipeline gives it to Archive and the API as their video bucket port. */
export async function startLocalVideoBucket(directory: string | undefined): Promise<VideoBucketServer> {
  const where = directory ?? mkdtempSync(path.join(tmpdir(), "kling-videos-"));
  const server = await startVideoBucketServer(where);
  return {
    ...server,
    close: async () => {
      await server.close();
      if (directory === undefined) rmSync(where, { recursive: true, force: true });
    },
  };
}
