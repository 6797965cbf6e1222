/**
 * The video bucket of a local pipeline: the embedded S3 on a directory that outlives the command
 * (`.kling-pipeline/videos` for `npm start`), or on a temporary one removed when it stops.
 */
import { copyFileSync, constants, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startVideoBucketServer, type VideoBucketServer } from "./video-bucket-server";

/** The archived video's key in a succeeded execution's output; undefined when it has none. */
function archivedVideoKey(output: unknown): string | undefined {
  const key = (output as { archive?: { video?: { key?: unknown } } } | null)?.archive?.video?.key;
  return typeof key === "string" ? key : undefined;
}

/**
 * Keeps a copy of the archived video `key` as `<run>.mp4` beside the bucket, where a player or a
 * file manager opens it (s3rver keeps an object as `<bucket>/<key>._S3rver_object`, three folders
 * deep; its listing takes only folders for buckets, so a file here is no bucket). The archive
 * itself stays as it is. Returns the copy's path.
 */
export function keepVideoFile(bucket: Pick<VideoBucketServer, "pathOf" | "directory">, key: string, run: string): string {
  const file = path.join(bucket.directory, `${run}.mp4`);
  // A clone where the file system can (no second copy of the bytes), else a plain copy.
  copyFileSync(bucket.pathOf(key), file, constants.COPYFILE_FICLONE);
  return file;
}

/** The kept `.mp4` of a succeeded execution's archived video (see {@link keepVideoFile}); undefined when it has none. */
export function savedVideoFile(bucket: Pick<VideoBucketServer, "pathOf" | "directory">, output: unknown, run: string): string | undefined {
  const key = archivedVideoKey(output);
  return key === undefined ? undefined : keepVideoFile(bucket, key, run);
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
