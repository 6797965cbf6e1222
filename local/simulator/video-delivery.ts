/**
 * How the simulator sends a video's bytes: whole, or with one of the faults a CDN download meets
 * (the connection dropped in the middle of the body, a body that ends short of its Content-Length,
 * a body that stalls).
 */
import type { ServerResponse } from "node:http";

export const VIDEO_DELIVERY_FAULTS = ["download-dropped", "download-truncated", "download-stalled"] as const;
export type VideoDeliveryFault = (typeof VIDEO_DELIVERY_FAULTS)[number];

/** How long a stalled body stalls before it goes on: longer than any download's stall timeout in the tests. */
const STALL_MS = 60_000;

/** Sends the video (Content-Length announced) with the fault, if any; returns the status sent. */
export function deliverVideo(response: ServerResponse, bytes: Buffer, fault: VideoDeliveryFault | undefined): number {
  response.writeHead(200, { "content-type": "video/mp4", "content-length": String(bytes.length) });
  const half = Math.floor(bytes.length / 2);
  switch (fault) {
    case undefined:
      response.end(bytes);
      break;
    case "download-dropped":
      response.write(bytes.subarray(0, half), () => response.socket?.destroy());
      break;
    case "download-truncated":
      // The last bytes never come and the connection closes: shorter than the Content-Length.
      response.write(bytes.subarray(0, bytes.length - 1), () => response.socket?.end());
      break;
    case "download-stalled": {
      response.write(bytes.subarray(0, half));
      const timer = setTimeout(() => response.end(bytes.subarray(half)), STALL_MS);
      response.once("close", () => clearTimeout(timer));
      break;
    }
  }
  return 200;
}
