/**
 * The video bucket of a local pipeline: the embedded S3 on a directory that outlives the command
 * (`.kling-pipeline/videos` for `npm start`), or on a temporary one removed when it stops.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ENV } from "../../lambdas/common/settings";
import { startVideoBucketServer, type VideoBucketServer } from "./video-bucket-server";

/** The git-ignored local state directory, under the directory the command runs in. */
export const LOCAL_STATE_DIRECTORY = ".kling-pipeline";

export function localVideoDirectory(cwd: string = process.cwd()): string {
  return path.join(cwd, LOCAL_STATE_DIRECTORY, "videos");
}

/** Starts the server and points the Lambdas' environment (Archive's, the API's) at it. */
export async function startLocalVideoBucket(directory: string | undefined): Promise<VideoBucketServer> {
  const where = directory ?? mkdtempSync(path.join(tmpdir(), "kling-videos-"));
  const server = await startVideoBucketServer(where);
  process.env[ENV.videoBucketEndpoint] = server.endpoint;
  process.env[ENV.videoBucketName] = server.bucket;
  return {
    ...server,
    close: async () => {
      await server.close();
      if (directory === undefined) rmSync(where, { recursive: true, force: true });
    },
  };
}
