/**
 * Validation of a generation request: the field schema (generation-request.ts), the rules that
 * tie fields together, what the chosen model accepts (models.ts) and the blocked-terms
 * pre-check. Every problem is reported at once, in words that name the field as it was sent.
 * The Validate Lambda and the HTTP API both call this; neither adds rules of its own.
 */
import * as z from "zod";
import type { CreateTaskBody } from "../kling/wire";
import {
  GENERATION_REQUEST_FIELDS,
  WIRE_FIELD_NAMES,
  characterCount,
  generationRequestInputSchema,
  generationRequestShape,
  isBase64Image,
  MAX_SHOTS,
  productOf,
  videoInput,
  type GenerationRequest,
  type GenerationRequestField,
} from "./generation-request";
import {
  ASPECT_RATIOS,
  CAMERA_CONTROL_TYPES,
  DURATIONS,
  MODEL_NAMES,
  MODELS,
  MAX_PROMPT_CHARACTERS,
  MODES,
  MODE_RESOLUTIONS,
  SOUND_SETTINGS,
  isModelName,
  modelsFor,
  modelsWhere,
  type CameraControlType,
  type Duration,
  type ModelCapabilities,
  type ModelName,
  type Mode,
  type VideoInput,
} from "./models";
import { PRODUCT_NAMES, PRODUCTS } from "./products";

/**
 * The most base64 image data (image and imageTail together) a request may carry inline.
 * Step Functions refuses a state payload over 256 KiB, and the request rides in the state from
 * Validate to Submit next to the job id, the task and, on failure, the diagnosis; 64 KiB is left
 * for those and for the prompts (2 x 2500 characters is up to 20 KB of UTF-8).
 */
export const MAX_BASE64_IMAGE_BYTES = 192 * 1024;

/**
 * The largest validated request, as the UTF-8 bytes of its JSON. It rides in every state up to
 * Step Functions' 256 KiB: the rest is left for the job id, the price, Kling's task with its
 * URLs, Archive's output and, on a failure, the error and its diagnosis.
 */
export const MAX_REQUEST_BYTES = 200 * 1024;

const DEFAULT_ASPECT_RATIO = "16:9";

export interface ValidationOptions {
  /** The model used when the request names none. */
  readonly defaultModel: string;
  /** Words or phrases refused in prompts: case-insensitive, whole words only. */
  readonly blockedTerms: readonly string[];
}

export type ValidationResult =
  | { readonly ok: true; readonly request: GenerationRequest }
  | {
      readonly ok: false;
      readonly problems: readonly string[];
      /** True when a blocked term was found: the caller raises Kling.ContentPolicy, not Kling.InvalidRequest. */
      readonly contentPolicy: boolean;
    };

export { generationRequestSchema, taskKind, type GenerationRequest } from "./generation-request";

type JsonObject = Record<string, unknown>;
/** The fields that are valid on their own (duration defaults when absent or invalid). */
type FieldValues = z.output<typeof generationRequestInputSchema>;

interface ResolvedModel {
  readonly model: ModelName;
  /** True when the request named no model and the configured default was taken. */
  readonly fromDefault: boolean;
}

const INPUT_LABELS: Readonly<Record<VideoInput, string>> = { text: "text-to-video", image: "image-to-video" };

export function validateGenerationRequest(input: unknown, options: ValidationOptions): ValidationResult {
  if (!isModelName(options.defaultModel)) {
    throw new Error(`the default model "${options.defaultModel}" is not one of ${quotedList(MODEL_NAMES)}`);
  }
  if (!isJsonObject(input)) return { ok: false, problems: ["the request must be a JSON object"], contentPolicy: false };

  const kind = videoInput(input);
  const resolved = resolveModel(input, options.defaultModel);
  const validFields: JsonObject = {};
  const fieldProblems = GENERATION_REQUEST_FIELDS.flatMap((name) => {
    const problems = fieldProblemsOf(name, input[name], resolved?.model);
    if (problems.length === 0 && input[name] !== undefined) validFields[name] = input[name];
    return problems;
  });
  // Each of these fields passed on its own and the schema has no rule between fields, so this passes.
  const fields = generationRequestInputSchema.parse(validFields);
  const problems = [
    ...Object.keys(input).filter((key) => !isRequestField(key)).map(unknownFieldProblem),
    ...fieldProblems,
    ...requestRuleProblems(input, fields, kind),
    ...promptLengthProblems(fields, kind, resolved?.model),
    ...(resolved ? modelProblems(input, fields, kind, resolved) : []),
    ...productProblems(input, fields, kind, resolved?.model),
  ];
  const blocked = blockedTermProblems(input, options.blockedTerms);
  if (problems.length > 0 || blocked.length > 0 || resolved === undefined) {
    return { ok: false, problems: [...problems, ...blocked], contentPolicy: blocked.length > 0 };
  }
  const aspectRatio = kind === "text" ? { aspectRatio: fields.aspectRatio ?? DEFAULT_ASPECT_RATIO } : {};
  const mode = fields.mode ?? (fields.product === "4k" ? "4k" : MODELS[resolved.model].defaultMode);
  const request = { ...fields, model: resolved.model, mode, ...aspectRatio };
  const bytes = Buffer.byteLength(JSON.stringify(request), "utf8");
  if (bytes > MAX_REQUEST_BYTES) {
    return { ok: false, problems: [`the request is ${bytes} bytes of JSON, past the ${MAX_REQUEST_BYTES} a Step Functions state holds for it: pass images as https URLs`], contentPolicy: false };
  }
  return { ok: true, request };
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isRequestField(key: string): key is GenerationRequestField {
  return (GENERATION_REQUEST_FIELDS as readonly string[]).includes(key);
}

/** The model the request will use, or undefined when the one it names is not valid. */
function resolveModel(input: JsonObject, defaultModel: ModelName): ResolvedModel | undefined {
  if (input.model === undefined) return { model: defaultModel, fromDefault: true };
  const named = generationRequestShape.model.safeParse(input.model);
  return named.success && named.data !== undefined ? { model: named.data, fromDefault: false } : undefined;
}

/** What is wrong with one field on its own, in our words. */
function fieldProblemsOf(name: GenerationRequestField, raw: unknown, model: ModelName | undefined): string[] {
  const result = z.safeParse(generationRequestShape[name], raw, { reportInput: true });
  if (result.success) return [];
  const choices = choicesOf(name, model);
  if (choices) return [choiceProblem(name, raw, choices)];
  return result.error.issues.flatMap((issue) => describeIssue(name, issue));
}

interface Choices {
  readonly values: readonly string[];
  /** Set when the values are this model's (they differ by model). */
  readonly model?: ModelName | undefined;
}

/** The fields that take one of a few strings, and the strings (the model's own, when it is known). */
function choicesOf(name: GenerationRequestField, model: ModelName | undefined): Choices | undefined {
  const capabilities = model === undefined ? undefined : MODELS[model];
  switch (name) {
    case "model":
      return { values: MODEL_NAMES };
    case "sound":
      return { values: SOUND_SETTINGS };
    case "mode":
      return { values: capabilities?.modes ?? MODES, model };
    case "duration":
      return { values: capabilities?.durations ?? DURATIONS, model };
    case "aspectRatio":
      return { values: capabilities?.aspectRatios ?? ASPECT_RATIOS, model };
    default:
      return undefined;
  }
}

function choiceProblem(name: GenerationRequestField, raw: unknown, choices: Choices): string {
  // A duration may come as a number (5, 10), so a wrong number is a wrong value, not a wrong type.
  const rightType = typeof raw === "string" || (name === "duration" && typeof raw === "number");
  return rightType ? notOneOfProblem(name, choices) : `${name} must be a string ${orList(choices.values)}, got ${show(raw)}`;
}

function notOneOfProblem(name: string, choices: Choices): string {
  return `${name} must be one of ${quotedList(choices.values)}${choices.model ? ` for ${choices.model}` : ""}`;
}

const EXPECTED_TYPES: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  object: "an object",
  record: "an object",
  array: "an array",
  boolean: "true or false",
};

/** Our words for one zod issue: zod's own texts and paths never reach the person. */
function describeIssue(name: string, issue: z.core.$ZodIssue): string[] {
  const path = [name, ...issue.path.map(String)].join(".");
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return [`${path} is required`];
      return [`${path} must be ${EXPECTED_TYPES[issue.expected] ?? issue.expected}, got ${show(issue.input)}`];
    case "too_big":
      return [`${path} must be at most ${issue.maximum}, got ${show(issue.input)}`];
    case "too_small":
      return [`${path} must be at least ${issue.minimum}, got ${show(issue.input)}`];
    case "invalid_value":
      return [`${path} must be one of ${quotedList(issue.values)}`];
    case "unrecognized_keys":
      return issue.keys.map((key) => `${path}.${shownKey(key)} is not a known field`);
    case "custom":
      return [`${path} ${issue.message}`];
    default:
      return [`${path} is not valid`];
  }
}

/** Field names folded so that `negative_prompt`, `NegativePrompt` and `model_name` find their field. */
const FIELD_BY_FOLDED_NAME: ReadonlyMap<string, GenerationRequestField> = new Map(
  GENERATION_REQUEST_FIELDS.flatMap((field) => {
    const wire = WIRE_FIELD_NAMES[field];
    return [...(wire === undefined ? [] : [[foldFieldName(wire), field] as const]), [foldFieldName(field), field] as const];
  }),
);

function foldFieldName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, "");
}

function unknownFieldProblem(key: string): string {
  const meant = FIELD_BY_FOLDED_NAME.get(foldFieldName(key));
  const shown = shownKey(key);
  return meant ? `${shown} is not a known field (did you mean ${meant}?)` : `${shown} is not a known field`;
}

/** Rules between fields that hold whatever the model. */
function requestRuleProblems(input: JsonObject, fields: FieldValues, kind: VideoInput): string[] {
  const problems: string[] = [];
  // A multi-shot video's shots carry its words.
  if (kind === "text" && input.prompt === undefined && input.multiPrompt === undefined) problems.push("prompt is required");
  if (kind === "text" && input.imageTail !== undefined) {
    problems.push("imageTail is only accepted together with image (image is the first frame, imageTail the last)");
  }
  if (input.imageTail !== undefined && input.cameraControl !== undefined) {
    problems.push("imageTail and cameraControl cannot be combined: Kling takes a last frame, motion brush or camera control, one at a time");
  }
  if (kind === "image" && input.aspectRatio !== undefined) {
    problems.push("aspectRatio is not accepted for image-to-video (the image sets it)");
  }
  const size = inlineImageSizeProblem(fields);
  if (size) problems.push(size);
  return problems;
}

function inlineImageSizeProblem(fields: FieldValues): string | undefined {
  const inline = (["image", "imageTail"] as const).flatMap((name) => {
    const value = fields[name];
    return value !== undefined && isBase64Image(value) ? [{ name, length: value.length }] : [];
  });
  // Base64 is ASCII: one character is one byte of payload.
  const bytes = inline.reduce((total, image) => total + image.length, 0);
  if (bytes <= MAX_BASE64_IMAGE_BYTES) return undefined;
  const limit = `a Step Functions payload carries at most ${MAX_BASE64_IMAGE_BYTES / 1024} KiB`;
  const size = `${Math.ceil(bytes / 1024)} KiB of base64`;
  const [only] = inline;
  return inline.length === 1 && only
    ? `${only.name} is ${size}; ${limit}: pass an https URL instead`
    : `image and imageTail are ${size} together; ${limit}: pass https URLs instead`;
}

/** The prompt's limit is the model's (3072 characters on the new standard's 3.0 models, 2500 on the others); the longest of all when the model is not valid. */
function promptLengthProblems(fields: FieldValues, kind: VideoInput, model: ModelName | undefined): string[] {
  if (fields.prompt === undefined) return [];
  const count = characterCount(fields.prompt);
  const limit = model === undefined ? MAX_PROMPT_CHARACTERS : MODELS[model].promptCharacters[kind];
  return count > limit ? [`prompt must be at most ${limit} characters${model === undefined ? "" : ` for ${model}`} (got ${count})`] : [];
}

/** What the resolved model does not accept. */
function modelProblems(input: JsonObject, fields: FieldValues, kind: VideoInput, { model, fromDefault }: ResolvedModel): string[] {
  const capabilities = MODELS[model];
  const problems: string[] = [];
  if (!capabilities.inputs.includes(kind)) {
    const others = quotedList(modelsFor(kind));
    problems.push(
      fromDefault
        ? `the default model ${model} does not accept ${INPUT_LABELS[kind]}; set model to one of ${others}`
        : `model ${model} does not accept ${INPUT_LABELS[kind]}; use one of ${others}`,
    );
  }
  const { duration, aspectRatio } = fields;
  const mode = fields.mode ?? (fields.product === "4k" ? "4k" : capabilities.defaultMode);
  // A model without a mode parameter (kling-v2-master) renders in its one mode: asking for that one is harmless (nothing is sent).
  if (!capabilities.modes.includes(mode)) {
    problems.push(`${notOneOfProblem("mode", { values: capabilities.modes, model })} (${capabilities.modes.map(modeLabel).join(", ")} only)`);
  }
  if (!capabilities.durations.includes(duration)) {
    problems.push(notOneOfProblem("duration", { values: capabilities.durations, model }));
  }
  if (kind === "text" && aspectRatio !== undefined && !capabilities.aspectRatios.includes(aspectRatio)) {
    problems.push(notOneOfProblem("aspectRatio", { values: capabilities.aspectRatios, model }));
  }
  if (input.negativePrompt !== undefined && !capabilities.negativePrompt) {
    problems.push(`negativePrompt is not accepted by ${model} (Kling's new API standard has none: say what to avoid in the prompt)`);
  }
  if (input.cfgScale !== undefined && !capabilities.cfgScale) problems.push(`cfgScale is not accepted by ${model}`);
  problems.push(...soundProblems(input, fields, model, mode), ...lastFrameProblems(fields, model, mode));
  if (input.cameraControl !== undefined && !acceptsCameraControl(capabilities, mode, duration, fields.cameraControl?.type)) {
    const type = fields.cameraControl === undefined ? "" : `, type ${JSON.stringify(fields.cameraControl.type)}`;
    problems.push(`cameraControl is only accepted with ${cameraControlCombinations()} (got ${model}, ${mode} mode, ${duration} s${type})`);
  }
  return problems;
}

/** `sound` exists on some models only; native audio (`"on"`) is made only in the model's sound modes (2.6: 1080p). */
function soundProblems(input: JsonObject, fields: FieldValues, model: ModelName, mode: Mode): string[] {
  const accepted = MODELS[model].sound;
  if (input.sound === undefined) return [];
  if (!accepted) {
    const always = MODELS[model].alwaysNativeAudio ? ` (${model} always makes native audio and has no switch for it)` : "";
    return [`sound is only accepted by ${modelsWhere((capabilities) => capabilities.sound !== undefined).join(", ")}${always}`];
  }
  if (fields.sound === "on" && !accepted.modes.includes(mode)) {
    return [`sound "on" (native audio) is only made in ${modesText(accepted.modes)} by ${model} (got ${mode} mode): set mode to "pro" or sound to "off"`];
  }
  return [];
}

/** First and last frame: not on every model, on 2.5 Turbo and 2.6 only at 1080p, and silent on 2.6. */
function lastFrameProblems(fields: FieldValues, model: ModelName, mode: Mode): string[] {
  if (fields.imageTail === undefined || fields.image === undefined) return [];
  const accepted = MODELS[model].lastFrame;
  if (!accepted) {
    return [`imageTail (a last frame) is not accepted by ${model}; use one of ${quotedList(modelsWhere((capabilities) => capabilities.lastFrame !== undefined && capabilities.inputs.includes("image")))}`];
  }
  const problems: string[] = [];
  if (!accepted.modes.includes(mode)) {
    problems.push(`imageTail (first and last frame) is only accepted in ${modesText(accepted.modes)} by ${model} (got ${mode} mode)`);
  }
  if (accepted.silentOnly && fields.sound === "on") {
    problems.push(`imageTail (first and last frame) is only accepted without native audio by ${model}: set sound to "off" or drop imageTail`);
  }
  return problems;
}

/**
 * The product's own rules (products.ts): that this pipeline runs it and its price is known, that
 * it fits what the request gives, that the model offers it, and a multi-shot video's shots.
 */
function productProblems(input: JsonObject, fields: FieldValues, kind: VideoInput, model: ModelName | undefined): string[] {
  // A product that is not one of the names was reported with the field.
  if (input.product !== undefined && fields.product === undefined) return [];
  // The image as sent decides the default, even when it is refused on its own.
  const product = productOf({ product: fields.product, image: input.image });
  const entry = PRODUCTS[product];
  if (!entry.runs) {
    const why = entry.price.kind === "unknown" ? `its price is not known (${entry.price.why}), and a price is never guessed` : "this pipeline does not run it yet";
    return [`product ${product} is refused: ${why}; products run here: ${quotedList(PRODUCT_NAMES.filter((name) => PRODUCTS[name].runs))}`];
  }
  const problems: string[] = [];
  if (product === "text-to-video" && kind === "image") problems.push("product text-to-video takes no image: set product to image-to-video, or leave it out");
  if (product === "image-to-video" && kind === "text") problems.push("image is required for product image-to-video");
  // text-to-video and image-to-video: the model's own check names the models (modelProblems).
  const offered = entry.models as readonly string[];
  if (model !== undefined && product !== "text-to-video" && product !== "image-to-video" && !offered.includes(model)) {
    problems.push(`product ${product} is not offered by ${model}; set model to one of ${quotedList(entry.models)}`);
  }
  if (fields.multiPrompt !== undefined && product !== "multi-shot") problems.push("multiPrompt is only taken with product multi-shot");
  if (product === "4k" && fields.mode !== undefined && fields.mode !== "4k") problems.push(`product 4k is made in mode "4k" (got mode "${fields.mode}")`);
  const multiShot = model === undefined ? undefined : MODELS[model].multiShot;
  // A multiPrompt refused on its own was reported with the field.
  if (product === "multi-shot" && multiShot && model !== undefined && (input.multiPrompt === undefined || fields.multiPrompt !== undefined)) {
    problems.push(...shotProblems(fields, model, multiShot.form));
  }
  // 3.0 Turbo has no multi_shot switch: a prompt in the shot form is made into shots whatever the pipeline sends.
  if (product !== "multi-shot" && multiShot?.setting === false && fields.prompt !== undefined && SHOT_FORM.test(fields.prompt)) {
    problems.push(`prompt is in Kling's multi-shot form ("shot n, m, words;"), which ${model} always makes into shots (it has no multi_shot switch): set product to multi-shot`);
  }
  return problems;
}

/** Kling's multi-shot prompt form, "shot n, m, words; shot n, m, words;" (3.0 pages): the pipeline writes it from multiPrompt. */
const SHOT_FORM = /^\s*shot\s+\d+\s*,\s*\d+\s*,/iu;

interface Shot {
  readonly prompt: string;
  readonly duration: number;
}

/** "shot 1, 2, words; shot 2, 3, words;": the shots in the prompt form of Kling's 3.0 pages. */
function shotFormPrompt(shots: readonly Shot[]): string {
  return shots.map((shot, index) => `shot ${index + 1}, ${shot.duration}, ${shot.prompt.trim()};`).join(" ");
}

/**
 * The shots (multiPrompt: 1 to 6, each at least 1 s and 512 characters, by the field's schema)
 * add up to the duration, and fit the model: kling-v3 takes them as multi_prompt, 3.0 in its
 * prompt form, which cannot carry a ";" inside a shot and must fit the model's prompt limit.
 */
function shotProblems(fields: FieldValues, model: ModelName, form: "prompt" | "fields"): string[] {
  const shots = fields.multiPrompt;
  if (shots === undefined) return [`product multi-shot needs its shots: multiPrompt, 1 to ${MAX_SHOTS} of {prompt, duration}`];
  const problems = fields.prompt === undefined ? [] : ["prompt and multiPrompt cannot be combined: a multi-shot video's words are its shots' prompts"];
  const total = shots.reduce((sum, shot) => sum + shot.duration, 0);
  if (String(total) !== fields.duration) {
    problems.push(`multiPrompt lasts ${shots.map((shot) => shot.duration).join(" + ")} = ${total} s, but duration is ${fields.duration} s: the shots must add up to it`);
  }
  if (form === "fields") return problems;
  shots.forEach((shot, index) => {
    if (shot.prompt.includes(";")) problems.push(`multiPrompt.${index}.prompt must not contain ";" for ${model} (its shots go in the prompt, separated by semicolons)`);
  });
  const limit = MODELS[model].promptCharacters[videoInput(fields)];
  const length = characterCount(shotFormPrompt(shots));
  if (length > limit) problems.push(`multiPrompt, written as ${model}'s prompt, is ${length} characters: over its ${limit}`);
  return problems;
}

/** "pro mode (1080p)". */
function modeLabel(mode: Mode): string {
  return `${mode} mode (${MODE_RESOLUTIONS[mode]})`;
}

function modesText(modes: readonly Mode[]): string {
  return modes.map(modeLabel).join(" or ");
}

/** Whether the model takes camera control in this mode and duration (and, when known, of this type). */
function acceptsCameraControl(capabilities: ModelCapabilities, mode: Mode, duration: Duration, type: CameraControlType | undefined): boolean {
  const accepted = capabilities.cameraControl;
  return (
    accepted !== undefined &&
    accepted.modes.includes(mode) &&
    accepted.durations.includes(duration) &&
    (type === undefined || accepted.types.includes(type))
  );
}

/** "kling-v1, std mode, 5 s; or kling-v1-5, pro mode, 5 or 10 s, type "simple" only", from the capability table. */
function cameraControlCombinations(): string {
  return MODEL_NAMES.flatMap((model) => {
    const accepted = MODELS[model].cameraControl;
    if (!accepted) return [];
    const types = accepted.types.length === CAMERA_CONTROL_TYPES.length ? "" : `, type ${quotedList(accepted.types)} only`;
    return [`${model}, ${accepted.modes.join(" or ")} mode, ${accepted.durations.join(" or ")} s${types}`];
  }).join("; or ");
}

const WORD_CHARACTER = String.raw`[\p{L}\p{M}\p{N}_]`;

/** A case-insensitive, whole-word pattern for a term; a phrase matches across any whitespace. */
function blockedTermPattern(term: string): RegExp | undefined {
  const words = term.normalize("NFKC").trim().split(/\s+/u).filter((word) => word !== "");
  if (words.length === 0) return undefined;
  const phrase = words.map((word) => word.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&")).join(String.raw`\s+`);
  return new RegExp(`(?<!${WORD_CHARACTER})${phrase}(?!${WORD_CHARACTER})`, "iu");
}

/** Checks the prompts as sent (even when another rule refuses them), so all problems come at once. */
function blockedTermProblems(input: JsonObject, blockedTerms: readonly string[]): string[] {
  const patterns = blockedTerms.flatMap((term) => {
    const pattern = blockedTermPattern(term);
    return pattern ? [{ term: term.trim(), pattern }] : [];
  });
  const shots = Array.isArray(input.multiPrompt) ? input.multiPrompt : [];
  const texts = [
    ...(["prompt", "negativePrompt"] as const).map((field) => ({ field: field as string, text: input[field] })),
    ...shots.map((shot: unknown, index) => ({ field: `multiPrompt.${index}.prompt`, text: isJsonObject(shot) ? shot.prompt : undefined })),
  ];
  return texts.flatMap(({ field, text }) => {
    if (typeof text !== "string") return [];
    // NFKC so that full-width or composed look-alikes ("ｘｙｚ") match their plain term.
    const normalized = text.normalize("NFKC");
    return patterns.filter(({ pattern }) => pattern.test(normalized)).map(({ term }) => `${field} contains the blocked term "${term}"`);
  });
}

/**
 * Kling's create body (snake_case, the legacy words the client port takes for both standards)
 * for a validated request, with only the fields its model accepts. The requester's `callbackUrl`
 * is not Kling's `callback_url`: the pipeline notifies that URL itself once the generation ends
 * (lambdas/notify-requester).
 */
export function toCreateTaskBody(request: GenerationRequest, externalTaskId: string): CreateTaskBody {
  const capabilities = MODELS[request.model];
  const kind = videoInput(request);
  const body: CreateTaskBody = {
    model_name: request.model,
    duration: request.duration,
    external_task_id: externalTaskId,
  };
  if (capabilities.modeParameter) body.mode = request.mode;
  if (request.prompt !== undefined) body.prompt = request.prompt;
  if (request.negativePrompt !== undefined && capabilities.negativePrompt) body.negative_prompt = request.negativePrompt;
  if (request.cfgScale !== undefined && capabilities.cfgScale) body.cfg_scale = request.cfgScale;
  if (request.sound !== undefined && capabilities.sound) body.sound = request.sound;
  if (kind === "text" && request.aspectRatio !== undefined && capabilities.aspectRatios.includes(request.aspectRatio)) {
    body.aspect_ratio = request.aspectRatio;
  }
  if (request.cameraControl !== undefined && acceptsCameraControl(capabilities, request.mode, request.duration, request.cameraControl.type)) {
    body.camera_control = request.cameraControl;
  }
  // Kling's multi_shot defaults to true on 3.0: say "no" unless the request asks for shots, so a prompt that happens to read "shot 1, 2, ...;" stays one shot.
  const shots = productOf(request) === "multi-shot" ? capabilities.multiShot : undefined;
  if (capabilities.multiShot?.setting) body.multi_shot = shots !== undefined;
  if (shots?.form === "fields" && request.multiPrompt !== undefined) {
    body.shot_type = "customize";
    body.multi_prompt = request.multiPrompt.map((shot, index) => ({ index: index + 1, prompt: shot.prompt, duration: String(shot.duration) }));
  }
  if (shots?.form === "prompt" && request.multiPrompt !== undefined) body.prompt = shotFormPrompt(request.multiPrompt);
  if (request.image !== undefined) body.image = request.image;
  if (request.image !== undefined && request.imageTail !== undefined && capabilities.lastFrame) body.image_tail = request.imageTail;
  return body;
}

function quotedList(values: readonly unknown[]): string {
  return values.map(quote).join(", ");
}

/** `"5" or "10"`, `"16:9", "9:16" or "1:1"`. */
function orList(values: readonly unknown[]): string {
  const quoted = values.map(quote);
  const last = quoted.pop();
  return quoted.length === 0 ? String(last) : `${quoted.join(", ")} or ${last}`;
}

function quote(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** A field name as the person sent it: a plain name as it is, any other (empty, spaces, line breaks, long) quoted and short. */
function shownKey(key: string): string {
  return /^[\p{L}\p{N}_$-]{1,40}$/u.test(key) ? key : show(key);
}

/** A value as the person sent it, short. */
function show(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return String(value);
}
