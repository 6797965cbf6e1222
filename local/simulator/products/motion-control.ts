/**
 * Motion control (new standard): `POST /motion-control/kling-3.0` and `POST /motion-control/kling-2.6`,
 * as Kling's "Motion Control 3.0" and "Motion Control 2.6" pages describe them: a character image
 * and a motion reference video in `contents[]` (3.0 also one element), the character's
 * orientation, audio and resolution in `settings`. The output lasts as long as the reference
 * video and is charged per second of it.
 */
import { refuse, type CreateValidation } from "../accepted";
import { isRecord } from "../json";
import { MOTION_CONTROL_RATES, rateOf, unitsOf, type Resolution } from "../kling-tables";
import type { ProductContext } from "./context";
import { imageProblemOf, newStandardOptions, objectField, promptProblem, unknownField, videoUrlInput, type VideoInput } from "./inputs";

const MODELS: Readonly<Record<string, { readonly elements: boolean }>> = {
  "kling-3.0": { elements: true },
  "kling-2.6": { elements: false },
};
const PROMPT_CHARACTERS = 2500;
/** The reference video lasts 3 s to 10 s when the character faces as in the image, to 30 s as in the video. */
const VIDEO_SECONDS = { image: { min: 3, max: 10 }, video: { min: 3, max: 30 } } as const;

export function validateMotionControl(model: string, body: unknown, context: ProductContext): CreateValidation {
  const rules = MODELS[model];
  if (!rules) return refuse(`model ${model} is not served by /motion-control (one of ${Object.keys(MODELS).join(", ")})`);
  if (!isRecord(body)) return refuse("the request body must be a JSON object");
  const unknown = unknownField(body, ["contents", "settings", "options"]);
  if (unknown !== undefined) return refuse(`${unknown} is not a parameter of /motion-control/${model}`);
  const settings = objectField(body, "settings");
  if (typeof settings === "string") return refuse(settings);
  const unknownSetting = unknownField(settings, ["character_orientation", "audio", "resolution"]);
  if (unknownSetting !== undefined) return refuse(`settings.${unknownSetting} is not a parameter of /motion-control/${model}`);
  const orientation = settings.character_orientation;
  if (orientation !== "image" && orientation !== "video") return refuse("settings.character_orientation is required: image or video");
  const resolution = settings.resolution ?? "720p";
  if (resolution !== "720p" && resolution !== "1080p") return refuse("settings.resolution must be 720p or 1080p");
  if (settings.audio !== undefined && settings.audio !== "original" && settings.audio !== "off") return refuse("settings.audio must be original or off");

  if (!Array.isArray(body.contents) || body.contents.length === 0) return refuse("contents is required (an image and a motion reference video)");
  let prompt: string | undefined;
  let images = 0;
  let elements = 0;
  let video: VideoInput | undefined;
  for (const [index, item] of body.contents.entries()) {
    const at = `contents[${index}]`;
    if (!isRecord(item)) return refuse(`${at} must be an object`);
    const types = rules.elements ? ["prompt", "image", "video", "element"] : ["prompt", "image", "video"];
    if (!types.includes(String(item.type))) return refuse(`${at}.type must be one of ${types.join(", ")} for ${model}`);
    if (item.type === "prompt") {
      const problem = promptProblem(`${at}.text`, item.text, PROMPT_CHARACTERS, true);
      if (problem) return refuse(problem);
      prompt = String(item.text);
    } else if (item.type === "image") {
      const problem = imageProblemOf(`${at}.url`, item.url, 50);
      if (problem) return refuse(problem);
      images += 1;
    } else if (item.type === "video") {
      if (video) return refuse(`${at}: one motion reference video only`);
      const read = videoUrlInput(`${at}.url`, item.url, context, VIDEO_SECONDS[orientation]);
      if (typeof read === "string") return refuse(read);
      video = read;
    } else {
      if (typeof item.element_id !== "string" || item.element_id === "") return refuse(`${at}.element_id is required (an element's id)`);
      if (typeof item.id !== "string" || item.id === "") return refuse(`${at}.id is required for an element`);
      elements += 1;
    }
  }
  if (!video) return refuse("contents must hold a motion reference video ({type: video, url})");
  if (images > 1) return refuse("contents hold one image at most (the character's appearance)");
  if (elements > 1) return refuse("contents hold one element at most");
  if (images === 0 && elements === 0) return refuse("contents must hold an image of the character (or, on kling-3.0, an element)");
  const options = newStandardOptions(body.options);
  if (typeof options === "string") return refuse(options);
  const seconds = video.seconds;
  return {
    ok: true,
    create: {
      model,
      mode: resolution === "1080p" ? "pro" : "std",
      duration: String(seconds),
      ...(prompt === undefined ? {} : { prompt }),
      ...options,
      units: unitsOf(rateOf(MOTION_CONTROL_RATES[model], resolution as Resolution, `motion control on ${model}`), seconds),
      result: "video",
    },
  };
}
