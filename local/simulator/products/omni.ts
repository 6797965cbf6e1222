/**
 * Omni video (new standard): `POST /omni-video/kling-3.0-omni` and `POST /omni-video/kling-o1`, as
 * Kling's pages ("Omni Video Generation" of 3.0 Omni, "Video Generation" of O1) describe them:
 * `contents[]` of a prompt, a first and a last frame, reference images, one reference
 * (`feature_video`) or base video, and elements; `settings` and `options`.
 *
 * The simulator cannot tell a video-character element from a multi-image one (it has no element
 * library), so every element counts as a multi-image element in the count limits.
 */
import { refuse, type CreateValidation } from "../accepted";
import { isRecord } from "../json";
import { OMNI_RATES, rateOf, unitsOf, type Resolution } from "../kling-tables";
import type { ProductContext } from "./context";
import { imageProblemOf, newStandardOptions, objectField, promptProblem, unknownField, videoUrlInput } from "./inputs";
import { shotPromptProblem } from "./multi-shot";

interface OmniModel {
  readonly promptCharacters: number;
  readonly durations: readonly number[];
  readonly resolutions: readonly Resolution[];
  readonly audio: readonly string[];
  /** `settings.multi_shot` (3.0 Omni), true when absent. */
  readonly multiShot: boolean;
  readonly videoSeconds: { readonly min: number; readonly max: number };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

export const OMNI_MODELS: Readonly<Record<string, OmniModel>> = {
  "kling-3.0-omni": {
    promptCharacters: 3072,
    durations: range(3, 15),
    resolutions: ["720p", "1080p", "4k"],
    audio: ["native", "original", "off"],
    multiShot: true,
    videoSeconds: { min: 3, max: 15.5 },
  },
  "kling-o1": {
    promptCharacters: 2500,
    durations: range(3, 10),
    resolutions: ["720p", "1080p"],
    audio: ["original", "off"],
    multiShot: false,
    videoSeconds: { min: 3, max: 10 },
  },
};

const CONTENT_TYPES = ["prompt", "first_frame", "last_frame", "refer_image", "feature_video", "base_video", "element"];
const MAX_IMAGE_MB = 50;

interface OmniContents {
  prompt?: { readonly field: string; readonly text: string };
  firstFrame: number;
  lastFrame: number;
  referImages: number;
  elements: number;
  video?: { readonly type: "feature_video" | "base_video" };
}

export function validateOmni(model: string, body: unknown, context: ProductContext): CreateValidation {
  const rules = OMNI_MODELS[model];
  if (!rules) return refuse(`model ${model} is not served by /omni-video (one of ${Object.keys(OMNI_MODELS).join(", ")})`);
  if (!isRecord(body)) return refuse("the request body must be a JSON object");
  const unknown = unknownField(body, ["contents", "settings", "options"]);
  if (unknown !== undefined) return refuse(`${unknown} is not a parameter of /omni-video/${model}`);
  const contents = readContents(body.contents, rules, context);
  if (typeof contents === "string") return refuse(contents);
  const settings = objectField(body, "settings");
  if (typeof settings === "string") return refuse(settings);
  const problem = countsProblem(model, contents) ?? settingsProblem(model, rules, settings, contents);
  if (problem) return refuse(problem);
  const options = newStandardOptions(body.options);
  if (typeof options === "string") return refuse(options);

  const resolution = (settings.resolution ?? "720p") as Resolution;
  const seconds = Number(settings.duration ?? 5);
  const prices = OMNI_RATES[model];
  const rate = contents.video
    ? rateOf(prices?.withVideo, resolution, `${model} with a video`)
    : rateOf(settings.audio === "native" ? prices?.noVideo.withAudio : prices?.noVideo.silent, resolution, model);
  return {
    ok: true,
    create: {
      model,
      mode: resolution === "4k" ? "4k" : resolution === "1080p" ? "pro" : "std",
      duration: String(seconds),
      ...(settings.audio === "native" ? { sound: "on" as const } : {}),
      ...(contents.prompt ? { prompt: contents.prompt.text } : {}),
      ...options,
      units: unitsOf(rate, seconds),
      result: "video",
    },
  };
}

function readContents(value: unknown, rules: OmniModel, context: ProductContext): OmniContents | string {
  if (!Array.isArray(value) || value.length === 0) return "contents is required (an array of prompt, frames, references, a video and elements)";
  const found: OmniContents = { firstFrame: 0, lastFrame: 0, referImages: 0, elements: 0 };
  const ids = new Set<string>();
  for (const [index, item] of value.entries()) {
    const at = `contents[${index}]`;
    if (!isRecord(item)) return `${at} must be an object`;
    if (!CONTENT_TYPES.includes(String(item.type))) return `${at}.type must be one of ${CONTENT_TYPES.join(", ")}`;
    if (item.id !== undefined) {
      if (typeof item.id !== "string" || item.id === "") return `${at}.id must be a non-empty string`;
      if (ids.has(item.id)) return `${at}.id ${item.id} is used twice (ids must be unique within a task)`;
      ids.add(item.id);
    }
    switch (item.type) {
      case "prompt": {
        if (found.prompt) return `${at}: contents hold one prompt at most`;
        const problem = promptProblem(`${at}.text`, item.text, rules.promptCharacters, true);
        if (problem) return problem;
        found.prompt = { field: `${at}.text`, text: String(item.text) };
        break;
      }
      case "first_frame":
      case "last_frame":
      case "refer_image": {
        const problem = imageProblemOf(`${at}.url`, item.url, MAX_IMAGE_MB);
        if (problem) return problem;
        if (item.type === "first_frame") found.firstFrame += 1;
        else if (item.type === "last_frame") found.lastFrame += 1;
        else found.referImages += 1;
        break;
      }
      case "feature_video":
      case "base_video": {
        if (found.video) return `${at}: at most 1 reference video (feature_video or base_video)`;
        const video = videoUrlInput(`${at}.url`, item.url, context, rules.videoSeconds);
        if (typeof video === "string") return video;
        found.video = { type: item.type };
        break;
      }
      case "element":
        if (typeof item.element_id !== "string" || item.element_id === "") return `${at}.element_id is required (an element's id)`;
        if (item.id === undefined) return `${at}.id is required for an element (it names the element in the prompt)`;
        found.elements += 1;
        break;
    }
  }
  if (!found.prompt) return "contents must hold a prompt ({type: prompt, text})";
  if (found.firstFrame > 1 || found.lastFrame > 1) return "contents hold one first_frame and one last_frame at most";
  return found;
}

function countsProblem(model: string, contents: OmniContents): string | undefined {
  const frames = contents.firstFrame + contents.lastFrame;
  if (contents.lastFrame > 0 && contents.firstFrame === 0) return "last_frame needs a first_frame (a last frame alone is not supported)";
  if (contents.video?.type === "base_video" && frames > 0) return "base_video cannot be used with a first_frame or last_frame";
  const references = contents.referImages + contents.elements;
  const limit = contents.video ? 4 : 7;
  if (references > limit) {
    return `contents: refer_image and element add up to ${references}, at most ${limit} ${contents.video ? "with" : "without"} a reference video`;
  }
  if (model === "kling-o1") {
    if (contents.video?.type === "feature_video" && contents.lastFrame > 0) return "last_frame cannot be used with a feature_video on kling-o1 (a first frame only)";
    if (contents.firstFrame > 0 && contents.lastFrame > 0 && references > 0) return "refer_image and element cannot be added to a first_frame and last_frame on kling-o1";
  } else if (frames > 0 && contents.elements > 3) {
    return `contents: at most 3 elements with a first frame (got ${contents.elements})`;
  }
  return undefined;
}

function settingsProblem(model: string, rules: OmniModel, settings: Record<string, unknown>, contents: OmniContents): string | undefined {
  const known = ["resolution", "aspect_ratio", "duration", "audio", ...(rules.multiShot ? ["multi_shot"] : [])];
  const unknown = unknownField(settings, known);
  if (unknown !== undefined) return `settings.${unknown} is not a parameter of /omni-video/${model}`;
  const resolution = settings.resolution ?? "720p";
  if (!(rules.resolutions as readonly unknown[]).includes(resolution)) return `settings.resolution must be one of ${rules.resolutions.join(", ")} for ${model}`;
  const duration = settings.duration ?? 5;
  if (typeof duration !== "number" || !rules.durations.includes(duration)) {
    return `settings.duration must be one of the numbers ${rules.durations.join(", ")} for ${model}`;
  }
  const firstFrameAlone = contents.firstFrame > 0 && contents.referImages === 0 && !contents.video;
  if (model === "kling-o1" && firstFrameAlone && duration !== 5 && duration !== 10) {
    return "settings.duration must be 5 or 10 on kling-o1 with a first frame and no reference image or video";
  }
  if (settings.aspect_ratio === undefined) {
    if (contents.firstFrame === 0 && !contents.video) return "settings.aspect_ratio is required without a first frame or a reference video";
  } else if (!["16:9", "9:16", "1:1"].includes(String(settings.aspect_ratio))) {
    return "settings.aspect_ratio must be 16:9, 9:16 or 1:1";
  }
  const audio = settings.audio ?? "off";
  if (!rules.audio.includes(String(audio))) return `settings.audio must be one of ${rules.audio.join(", ")} for ${model}`;
  if (audio === "native" && contents.video) return `settings.audio native is not supported with a ${contents.video.type} (off or original)`;
  if (audio === "original" && !contents.video) return "settings.audio original keeps a reference video's sound: it needs a feature_video or base_video";
  if (settings.multi_shot !== undefined && typeof settings.multi_shot !== "boolean") return "settings.multi_shot must be true or false";
  if (contents.video?.type === "feature_video" && settings.multi_shot === false) return "settings.multi_shot can only be true with a feature_video";
  if (contents.video?.type === "base_video" && settings.multi_shot === true) return "settings.multi_shot cannot be true with a base_video (it makes no multi-shot video)";
  const multiShot = rules.multiShot && contents.video?.type !== "base_video" && settings.multi_shot !== false;
  return contents.prompt ? shotPromptProblem(contents.prompt.field, contents.prompt.text, multiShot, duration) : undefined;
}
