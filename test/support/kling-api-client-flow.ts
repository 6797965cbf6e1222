/**
 * The independent `kling-api` npm client's whole flow, run in a child process by
 * test/workflow/kling-api-client.test.ts against the simulator over TLS. Node 22 runs this file
 * as it is (type stripping), so it imports nothing from this repository: it is the client alone.
 *
 * Input (environment): KLING_API_FLOW_BASE_URL, KLING_API_FLOW_ACCESS_KEY, KLING_API_FLOW_SECRET_KEY,
 * KLING_API_FLOW_IMAGE (a PNG file). Output: one JSON line on stdout, {@link FlowReport}.
 */
import { KlingAPI, KlingAPIError } from "kling-api";
import type { VideoTaskResult } from "kling-api/types";

interface VideoFetched {
  readonly status: number;
  readonly contentType: string | null;
  /** The first bytes, as hex: an MP4 starts with an `ftyp` box. */
  readonly headHex: string;
}

interface GenerationReport {
  readonly createdTaskId: string;
  readonly createdStatus: string;
  readonly finalStatus: string;
  readonly videoUrl: string;
  readonly video: VideoFetched;
}

interface ClientError {
  readonly name: string;
  readonly message: string;
  readonly code: number | undefined;
  readonly httpStatus: number | undefined;
}

export interface FlowReport {
  readonly textToVideo: GenerationReport;
  readonly imageToVideo: GenerationReport;
  readonly remainingUnits: number;
  /** What the client says when given the wrong SecretKey. */
  readonly badSecretKey: ClientError;
  /** What the client says when given an `http://` base URL. */
  readonly plainHttp: ClientError;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const baseUrl = required("KLING_API_FLOW_BASE_URL");
const accessKey = required("KLING_API_FLOW_ACCESS_KEY");
const secretKey = required("KLING_API_FLOW_SECRET_KEY");
const imagePath = required("KLING_API_FLOW_IMAGE");
const POLLING = { interval: 100, timeout: 20_000, showSpinner: false };

const api = new KlingAPI({ accessKey, secretKey, baseUrl, timeout: 10_000 });

async function fetchVideo(url: string): Promise<VideoFetched> {
  const response = await fetch(url);
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, contentType: response.headers.get("content-type"), headHex: bytes.subarray(0, 8).toString("hex") };
}

async function report(createdTaskId: string, createdStatus: string, done: VideoTaskResult): Promise<GenerationReport> {
  const videoUrl = done.data.task_result?.videos?.[0]?.url ?? "";
  return { createdTaskId, createdStatus, finalStatus: done.data.task_status, videoUrl, video: await fetchVideo(videoUrl) };
}

async function clientError(attempt: () => Promise<unknown>): Promise<ClientError> {
  try {
    await attempt();
  } catch (error) {
    if (error instanceof KlingAPIError) return { name: error.name, message: error.message, code: error.code, httpStatus: error.httpStatus };
    if (error instanceof Error) return { name: error.name, message: error.message, code: undefined, httpStatus: undefined };
  }
  throw new Error("the client did not report an error");
}

const text = await api.textToVideo({ prompt: "a corgi surfing a wave", model_name: "kling-v2-5-turbo", mode: "std", duration: "5", aspect_ratio: "16:9" });
const textDone = await api.waitForVideoResult(text.data.task_id, undefined, POLLING);

const image = await api.imageToVideo({ image: imagePath, prompt: "the corgi paddles out", model_name: "kling-v2-1", mode: "std", duration: "5" });
const imageDone = await api.waitForVideoResult(image.data.task_id, (taskId) => api.queryImageToVideoTask(taskId), POLLING);

const now = Date.now();
const account = await api.getAccountInfo(now - 3_600_000, now + 60_000);
const remainingUnits = account.data.resource_pack_subscribe_infos.reduce((sum, pack) => sum + pack.remaining_quantity, 0);

const flow: FlowReport = {
  textToVideo: await report(text.data.task_id, text.data.task_status, textDone),
  imageToVideo: await report(image.data.task_id, image.data.task_status, imageDone),
  remainingUnits,
  badSecretKey: await clientError(() =>
    new KlingAPI({ accessKey, secretKey: `${secretKey}-wrong`, baseUrl }).textToVideo({ prompt: "never created", model_name: "kling-v2-5-turbo" }),
  ),
  plainHttp: await clientError(async () => new KlingAPI({ accessKey, secretKey, baseUrl: baseUrl.replace(/^https:/, "http:") })),
};
process.stdout.write(`${JSON.stringify(flow)}\n`);
