/**
 * The request a person sends to make a video (camelCase), field by field. The rules that tie
 * fields together (prompt or image, what each model accepts, blocked terms, payload size) live
 * in validation.ts: always validate through `validateGenerationRequest`, which uses this schema.
 * Source of the field rules: Kling's API documentation ("Text to video", "Image to video").
 */
import * as z from "zod";
import { taskKindOn, type KlingTaskKind } from "../kling/port";
import { CAMERA_AXES, CAMERA_CONTROL_TYPES, type CameraAxis, type CreateTaskBody } from "../kling/wire";
import { ASPECT_RATIOS, DURATIONS, MODEL_NAMES, MODELS, MODES, SOUND_SETTINGS, type ModelName, type VideoInput } from "./models";
import { PRODUCT_NAMES, type ProductName } from "./products";

/** Only the legacy standard takes a negative prompt, up to 2500 characters. */
const MAX_NEGATIVE_PROMPT_CHARACTERS = 2500;

/** Characters as a person counts them (Unicode code points): "🎬" is one, not two UTF-16 units. */
export function characterCount(text: string): number {
  return Array.from(text).length;
}

function textOfAtMost(maxCharacters: number) {
  return z.string().superRefine((text, ctx) => {
    const count = characterCount(text);
    if (count > maxCharacters) ctx.addIssue({ code: "custom", message: `must be at most ${maxCharacters} characters (got ${count})` });
  });
}

/** Its length is the model's to limit (models.ts): validation.ts checks it with the model. */
const promptSchema = z.string().refine((text) => text.trim() !== "", "must not be blank");

/** Why a value is not an https URL, or undefined when it is one. */
function httpsUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an https URL";
  }
  return url.protocol === "https:" ? undefined : `must be an https URL (got ${url.protocol})`;
}

const httpsUrlSchema = z.string().superRefine((value, ctx) => {
  const problem = httpsUrlProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** The longest callbackUrl: it rides in every state, and is posted to by the notifier (which counts UTF-8 bytes). */
export const MAX_CALLBACK_URL_BYTES = 2048;

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const OUTSIDE_BASE64_ALPHABET = /[^A-Za-z0-9+/=]/u;
const PADDED_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_SIGNATURE = Buffer.from([0xff, 0xd8, 0xff]);

/** Whether an image field (already valid) is given as base64 rather than as a URL. */
export function isBase64Image(value: string): boolean {
  return !URL_SCHEME.test(value);
}

/** Kling takes an https URL or raw base64 of a jpg/jpeg/png, with no `data:` prefix. */
function imageSourceProblem(value: string): string | undefined {
  if (value === "") return "must be an https URL or raw base64, got an empty string";
  if (/^data:/i.test(value)) return 'must be raw base64 without a "data:" prefix (drop everything up to and including "base64,")';
  if (!isBase64Image(value)) return httpsUrlProblem(value);
  const outside = OUTSIDE_BASE64_ALPHABET.exec(value);
  if (outside) {
    return `must be an https URL or raw base64, but it contains ${JSON.stringify(outside[0])}, which is not in the base64 alphabet (A-Z, a-z, 0-9, +, /)`;
  }
  if (!PADDED_BASE64.test(value) || value.length % 4 !== 0) {
    return "is not valid base64 (its length must be a multiple of 4, with = padding only at the end)";
  }
  // 16 base64 characters decode to the first 12 bytes, enough for either signature.
  const head = Buffer.from(value.slice(0, 16), "base64");
  const isImage = head.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE) || head.subarray(0, JPEG_SIGNATURE.length).equals(JPEG_SIGNATURE);
  return isImage ? undefined : "is not a JPEG or PNG image (Kling accepts jpg, jpeg and png)";
}

const imageSourceSchema = z.string().superRefine((value, ctx) => {
  const problem = imageSourceProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** Kling's documented camera move range, per axis. */
const CAMERA_AXIS_LIMIT = 10;

const EXACTLY_ONE_AXIS = `must set exactly one of ${CAMERA_AXES.join(", ")} to a non-zero value`;

type CameraConfig = Partial<Record<CameraAxis, number>>;

function setAxes(config: CameraConfig): CameraAxis[] {
  return CAMERA_AXES.filter((axis) => config[axis] !== undefined && config[axis] !== 0);
}

const cameraConfigSchema = z
  .partialRecord(z.enum(CAMERA_AXES), z.number().min(-CAMERA_AXIS_LIMIT).max(CAMERA_AXIS_LIMIT))
  .refine((config) => setAxes(config).length === 1, EXACTLY_ONE_AXIS)
  // An axis at 0 moves nothing: only the one that moves is kept and sent.
  .transform((config) => {
    const moving: CameraConfig = {};
    for (const axis of setAxes(config)) moving[axis] = config[axis];
    return moving;
  });

const cameraControlSchema = z
  .strictObject({ type: z.enum(CAMERA_CONTROL_TYPES), config: cameraConfigSchema.optional() })
  .superRefine((control, ctx) => {
    if (control.type === "simple" && control.config === undefined) {
      ctx.addIssue({ code: "custom", path: ["config"], message: EXACTLY_ONE_AXIS });
    }
    if (control.type !== "simple" && control.config !== undefined) {
      ctx.addIssue({ code: "custom", path: ["config"], message: 'is only accepted with type "simple"' });
    }
  });

/** The longest words of one shot (Kling's 3.0 pages: "shot prompt; maximum length 512"). */
const MAX_SHOT_CHARACTERS = 512;
/** At most 6 shots (Kling's 3.0 pages; kling-v3's multi_prompt). */
export const MAX_SHOTS = 6;

/** One shot of a multi-shot video: its words and its whole seconds (at least 1). The shots add up to the duration (validation.ts). */
const shotSchema = z.strictObject({
  prompt: textOfAtMost(MAX_SHOT_CHARACTERS).refine((text) => text.trim() !== "", "must not be blank"),
  duration: z.number().int().min(1),
});

/** "3" to "15" as Kling's legacy API writes them; the numbers 3 to 15 are accepted and become strings. */
const durationSchema = z.union([z.enum(DURATIONS), z.number().transform(String).pipe(z.enum(DURATIONS))]);

export const generationRequestShape = {
  /** What to make (products.ts); when absent, image-to-video with an image, else text-to-video. */
  product: z.enum(PRODUCT_NAMES).optional(),
  /** Required unless an image is given (checked in validation.ts, with the model's own limit). */
  prompt: promptSchema.optional(),
  negativePrompt: textOfAtMost(MAX_NEGATIVE_PROMPT_CHARACTERS).optional(),
  /** When absent, the configured default model is used. */
  model: z.enum(MODEL_NAMES).optional(),
  /** When absent, the model's default mode (models.ts). */
  mode: z.enum(MODES).optional(),
  /** Text-to-video only; Kling's default is 16:9. */
  aspectRatio: z.enum(ASPECT_RATIOS).optional(),
  duration: durationSchema.default("5"),
  cfgScale: z.number().min(0).max(1).optional(),
  sound: z.enum(SOUND_SETTINGS).optional(),
  cameraControl: cameraControlSchema.optional(),
  /** The first frame: makes the task image-to-video. */
  image: imageSourceSchema.optional(),
  /** The last frame, with image only. */
  imageTail: imageSourceSchema.optional(),
  /** The shots of a multi-shot video (product multi-shot): 1 to 6. */
  multiPrompt: z.array(shotSchema).min(1).max(MAX_SHOTS).optional(),
  /** Where the pipeline posts the outcome once the generation ends, signed (lambdas/notify-requester); never sent to Kling. */
  callbackUrl: httpsUrlSchema.refine((url) => url.length <= MAX_CALLBACK_URL_BYTES, `must be at most ${MAX_CALLBACK_URL_BYTES} characters`).optional(),
};

/** What a person sends. Unknown fields are refused (strict), so a misspelt field never silently does nothing. */
export const generationRequestInputSchema = z.strictObject(generationRequestShape);

export type GenerationRequestField = keyof typeof generationRequestShape;
export const GENERATION_REQUEST_FIELDS: readonly GenerationRequestField[] = generationRequestInputSchema.keyof().options;

export type GenerationRequestInput = z.input<typeof generationRequestInputSchema>;

/**
 * A validated request as it travels in the state (every default applied, the model resolved).
 * Later states parse their input with it; it does not repeat the model rules, so build one only
 * through `validateGenerationRequest`.
 */
export const generationRequestSchema = generationRequestInputSchema.extend({ model: z.enum(MODEL_NAMES), mode: z.enum(MODES) });

export type GenerationRequest = z.output<typeof generationRequestSchema>;

/** Kling's (snake_case) name of each field, for the hint when someone sends the wire name; undefined for the pipeline's own. */
export const WIRE_FIELD_NAMES: Readonly<Record<GenerationRequestField, keyof CreateTaskBody | undefined>> = {
  product: undefined,
  prompt: "prompt",
  negativePrompt: "negative_prompt",
  model: "model_name",
  mode: "mode",
  aspectRatio: "aspect_ratio",
  duration: "duration",
  cfgScale: "cfg_scale",
  sound: "sound",
  cameraControl: "camera_control",
  image: "image",
  imageTail: "image_tail",
  multiPrompt: "multi_prompt",
  callbackUrl: "callback_url",
};

/** The product a request makes: the one it names, else image-to-video with an image, text-to-video without. */
export function productOf(request: { readonly product?: ProductName | undefined; readonly image?: unknown }): ProductName {
  return request.product ?? (request.image === undefined ? "text-to-video" : "image-to-video");
}

/** What the video starts from: an image (the first frame) when one is given. */
export function videoInput(request: { readonly image?: unknown }): VideoInput {
  return request.image === undefined ? "text" : "image";
}

/** Where the task lives: its input on the standard that serves its model (models.ts). */
export function taskKind(request: { readonly model: ModelName; readonly image?: unknown }): KlingTaskKind {
  return taskKindOn(MODELS[request.model].standard, videoInput(request));
}
