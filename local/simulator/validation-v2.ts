/**
 * The new standard's create-body rules (Kling's API documentation "The new standard", with the per-model
 * details of the copies of Kling's pages it names). Like validation.ts, kept apart from the
 * pipeline's table (lambdas/schemas/models.ts) on purpose, so a mistake there shows up as a
 * refused create. The first broken rule becomes a 400/1201 whose message names the parameter.
 */
import { refuse, type AcceptedCreate, type CreateValidation } from "./accepted";
import { isRecord } from "./json";
import { videoUnits, type Resolution } from "./kling-tables";
import { imageProblemOf, isHttpUrl } from "./products/inputs";
import { shotPromptProblem } from "./products/multi-shot";

type NewTaskKind = "text-to-video" | "image-to-video";

interface NewModelRules {
  readonly resolutions: readonly Resolution[];
  /**
   * Multi-shot: `switch`, a `settings.multi_shot` that is true when absent (3.0); `always`, no
   * switch but a prompt written as shots always makes one (3.0 Turbo's page); `none`.
   */
  readonly multiShot: "switch" | "always" | "none";
  readonly durations: readonly number[];
  /** The resolutions native audio is made at; undefined: no `settings.audio`. */
  readonly audio: readonly Resolution[] | undefined;
  /** The resolutions a `last_frame` is taken at, and whether only silent; undefined: first frame only. */
  readonly lastFrame: { readonly resolutions: readonly Resolution[]; readonly silentOnly: boolean } | undefined;
  readonly promptCharacters: Readonly<Record<NewTaskKind, number>>;
  /** Elements an image-to-video `contents[]` may name (3.0: up to 3), and its images' size limit. */
  readonly elements: number;
  readonly imageMegabytes: number;
}

const RESOLUTIONS: readonly Resolution[] = ["720p", "1080p"];
/** 3.0 renders 4k too (Kling's 3.0 text and image to video pages). */
const WITH_4K: readonly Resolution[] = ["720p", "1080p", "4k"];
const THREE_TO_FIFTEEN = Array.from({ length: 13 }, (_, index) => index + 3);
const FIVE_OR_TEN = [5, 10];
const PROMPT_2500 = { "text-to-video": 2500, "image-to-video": 2500 } as const;

const NEW_MODELS: Readonly<Record<string, NewModelRules>> = {
  "kling-3.0-turbo": {
    resolutions: RESOLUTIONS,
    multiShot: "always",
    durations: THREE_TO_FIFTEEN,
    audio: undefined,
    lastFrame: undefined,
    promptCharacters: { "text-to-video": 3072, "image-to-video": 2500 },
    elements: 0,
    imageMegabytes: 10,
  },
  "kling-3.0": {
    resolutions: WITH_4K,
    multiShot: "switch",
    durations: THREE_TO_FIFTEEN,
    audio: WITH_4K,
    lastFrame: { resolutions: WITH_4K, silentOnly: false },
    promptCharacters: { "text-to-video": 3072, "image-to-video": 3072 },
    elements: 3,
    imageMegabytes: 50,
  },
  "kling-2.6": { resolutions: RESOLUTIONS, multiShot: "none", durations: FIVE_OR_TEN, audio: ["1080p"], lastFrame: { resolutions: ["1080p"], silentOnly: true }, promptCharacters: PROMPT_2500, elements: 0, imageMegabytes: 10 },
  "kling-2.5-turbo": { resolutions: RESOLUTIONS, multiShot: "none", durations: FIVE_OR_TEN, audio: undefined, lastFrame: { resolutions: ["1080p"], silentOnly: false }, promptCharacters: PROMPT_2500, elements: 0, imageMegabytes: 10 },
};

const TOP_LEVEL: Readonly<Record<NewTaskKind, readonly string[]>> = {
  "text-to-video": ["prompt", "settings", "options"],
  "image-to-video": ["contents", "settings", "options"],
};
const SETTINGS: Readonly<Record<NewTaskKind, readonly string[]>> = {
  "text-to-video": ["resolution", "aspect_ratio", "duration", "audio"],
  "image-to-video": ["resolution", "duration", "audio"],
};
const OPTIONS = ["callback_url", "external_task_id", "watermark_info"];

/** What the rules between fields need from the prompt or an image-to-video `contents[]`. */
interface Contents {
  readonly lastFrame: boolean;
  /** The prompt, and the field it came in (for the multi-shot rules). */
  readonly prompt: { readonly field: string; readonly text: string } | undefined;
}

export function validateNewCreateBody(kind: NewTaskKind, model: string, body: unknown): CreateValidation {
  const rules = NEW_MODELS[model];
  if (!rules) return refuse(`model ${model} is not served by /${kind} (one of ${Object.keys(NEW_MODELS).join(", ")})`);
  if (!isRecord(body)) return refuse("the request body must be a JSON object");
  const unknown = Object.keys(body).find((key) => !TOP_LEVEL[kind].includes(key));
  if (unknown !== undefined) return refuse(`${unknown} is not a parameter of /${kind}/${model}`);

  const settings = body.settings ?? {};
  const options = body.options ?? {};
  if (!isRecord(settings)) return { ok: false, message: "settings must be an object" };
  if (!isRecord(options)) return { ok: false, message: "options must be an object" };

  let contents: Contents;
  if (kind === "text-to-video") {
    const problem = promptProblem("prompt", body.prompt, rules.promptCharacters[kind]);
    if (problem) return refuse(problem);
    contents = { lastFrame: false, prompt: { field: "prompt", text: String(body.prompt) } };
  } else {
    const read = readContents(body.contents, rules.promptCharacters[kind], rules);
    if (typeof read === "string") return refuse(read);
    contents = read;
  }

  const problem = settingsProblem(kind, model, rules, settings, contents) ?? optionsProblem(options);
  if (problem) return refuse(problem);
  const resolution = (settings.resolution ?? "720p") as Resolution;
  const duration = Number(settings.duration ?? 5);
  return {
    ok: true,
    create: {
      model,
      mode: resolution === "4k" ? "4k" : resolution === "1080p" ? "pro" : "std",
      duration: String(duration),
      ...(contents.prompt ? { prompt: contents.prompt.text } : {}),
      units: videoUnits(model, resolution, duration, settings.audio === "native"),
      result: "video",
      ...(settings.audio === undefined ? {} : { sound: settings.audio === "native" ? "on" : "off" }),
      ...(typeof options.external_task_id === "string" ? { externalTaskId: options.external_task_id } : {}),
      ...(typeof options.callback_url === "string" ? { callbackUrl: options.callback_url } : {}),
    } satisfies AcceptedCreate,
  };
}

function promptProblem(field: string, value: unknown, limit: number): string | undefined {
  if (value === undefined || value === "") return `${field} is required`;
  if (typeof value !== "string") return `${field} must be a string`;
  if (Array.from(value).length > limit) return `${field} must be at most ${limit} characters`;
  return undefined;
}

function readContents(value: unknown, promptLimit: number, rules: NewModelRules): Contents | string {
  if (!Array.isArray(value) || value.length === 0) return "contents is required (an array with a first_frame)";
  let firstFrame = false;
  let lastFrame = false;
  let prompt: Contents["prompt"];
  let elements = 0;
  for (const [index, item] of value.entries()) {
    if (!isRecord(item)) return `contents[${index}] must be an object`;
    if (item.type === "prompt") {
      const problem = promptProblem(`contents[${index}].text`, item.text, promptLimit);
      if (problem) return problem;
      prompt = { field: `contents[${index}].text`, text: String(item.text) };
    } else if (item.type === "first_frame" || item.type === "last_frame") {
      const problem = imageProblemOf(`contents[${index}].url`, item.url, rules.imageMegabytes);
      if (problem) return problem;
      if (item.type === "first_frame") firstFrame = true;
      else lastFrame = true;
    } else if (item.type === "element" && rules.elements > 0) {
      if (typeof item.element_id !== "string" || item.element_id === "") return `contents[${index}].element_id is required (an element's id)`;
      if (typeof item.id !== "string" || item.id === "") return `contents[${index}].id is required for an element`;
      elements += 1;
      if (elements > rules.elements) return `contents hold at most ${rules.elements} elements`;
    } else {
      return `contents[${index}].type must be prompt, first_frame${rules.elements > 0 ? ", last_frame or element" : " or last_frame"}`;
    }
  }
  if (!firstFrame) return "contents must hold a first_frame (a last frame alone is not supported)";
  return { lastFrame, prompt };
}

function settingsProblem(kind: NewTaskKind, model: string, rules: NewModelRules, settings: Record<string, unknown>, contents: Contents): string | undefined {
  const known = rules.multiShot === "switch" ? [...SETTINGS[kind], "multi_shot"] : SETTINGS[kind];
  const unknown = Object.keys(settings).find((key) => !known.includes(key));
  if (unknown !== undefined) return `settings.${unknown} is not a parameter of /${kind}/${model}`;
  const resolution = settings.resolution ?? "720p";
  if (typeof resolution !== "string" || !(rules.resolutions as readonly string[]).includes(resolution)) {
    return `settings.resolution must be one of ${rules.resolutions.join(", ")} for ${model}`;
  }
  if (settings.aspect_ratio !== undefined && !["16:9", "9:16", "1:1"].includes(String(settings.aspect_ratio))) {
    return "settings.aspect_ratio must be 16:9, 9:16 or 1:1";
  }
  const duration = settings.duration ?? 5;
  if (typeof duration !== "number" || !rules.durations.includes(duration)) {
    return `settings.duration must be one of the numbers ${rules.durations.join(", ")} for ${model}`;
  }
  if (settings.multi_shot !== undefined && typeof settings.multi_shot !== "boolean") return "settings.multi_shot must be true or false";
  if (rules.multiShot !== "none" && contents.prompt) {
    const problem = shotPromptProblem(contents.prompt.field, contents.prompt.text, settings.multi_shot !== false, duration);
    if (problem) return problem;
  }
  const audio = settings.audio;
  if (audio !== undefined) {
    if (!rules.audio) return `settings.audio is not supported by ${model}`;
    if (audio !== "native" && audio !== "off") return "settings.audio must be native or off";
    if (audio === "native" && !(rules.audio as readonly string[]).includes(resolution)) return `settings.audio native is only supported at ${rules.audio.join(" or ")} by ${model}`;
  }
  if (contents.lastFrame) {
    if (!rules.lastFrame) return `last_frame is not supported by ${model} (first frame only)`;
    if (!(rules.lastFrame.resolutions as readonly string[]).includes(resolution)) return `last_frame is only supported at ${rules.lastFrame.resolutions.join(" or ")} by ${model}`;
    if (rules.lastFrame.silentOnly && audio === "native") return `last_frame is only supported with settings.audio off by ${model}`;
  }
  return undefined;
}

function optionsProblem(options: Record<string, unknown>): string | undefined {
  const unknown = Object.keys(options).find((key) => !OPTIONS.includes(key));
  if (unknown !== undefined) return `options.${unknown} is not a parameter`;
  if (options.callback_url !== undefined && !isHttpUrl(options.callback_url)) return "options.callback_url must be an http(s) URL";
  if (options.external_task_id !== undefined && (typeof options.external_task_id !== "string" || options.external_task_id === "")) {
    return "options.external_task_id must be a non-empty string";
  }
  return undefined;
}
