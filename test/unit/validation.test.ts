import { describe, expect, it } from "vitest";
import { PRICING } from "#lambdas/schemas/pricing";
import { MODEL_NAMES, MODELS, type ModelName } from "#lambdas/schemas/models";
import {
  MAX_BASE64_IMAGE_BYTES,
  MAX_REQUEST_BYTES,
  generationRequestSchema,
  taskKind,
  toCreateTaskBody,
  validateGenerationRequest,
  type GenerationRequest,
  type ValidationOptions,
} from "#lambdas/schemas/validation";

const OPTIONS: ValidationOptions = { defaultModel: "kling-v2-6", blockedTerms: [] };
const IMAGE_URL = "https://images.example.com/first-frame.png";
const TAIL_URL = "https://images.example.com/last-frame.png";

const ALL_MODELS =
  '"kling-v1", "kling-v1-5", "kling-v1-6", "kling-v2-master", "kling-v2-1", "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6", "kling-v3", "kling-2.5-turbo", "kling-2.6", "kling-3.0", "kling-3.0-turbo"';
/** Where camera control is taken: kling-v1 (std, 5 s, any move), kling-v1-5 (pro, simple only; updates log 2025-03-12). */
const CAMERA_COMBINATIONS = 'kling-v1, std mode, 5 s; or kling-v1-5, pro mode, 5 or 10 s, type "simple" only';
const TEXT_MODELS =
  '"kling-v1", "kling-v1-6", "kling-v2-master", "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6", "kling-v3", "kling-2.5-turbo", "kling-2.6", "kling-3.0", "kling-3.0-turbo"';

function requestOf(input: unknown, options: ValidationOptions = OPTIONS): GenerationRequest {
  const result = validateGenerationRequest(input, options);
  if (!result.ok) throw new Error(`expected a valid request, got: ${result.problems.join("; ")}`);
  return result.request;
}

function problemsOf(input: unknown, options: ValidationOptions = OPTIONS): readonly string[] {
  const result = validateGenerationRequest(input, options);
  if (result.ok) throw new Error(`expected problems, got a valid request: ${JSON.stringify(result.request)}`);
  return result.problems;
}

/** Raw base64 of a PNG (or JPEG) exactly `characters` long (a multiple of 4: no padding). */
function base64Image(characters: number, format: "png" | "jpeg" = "png"): string {
  const bytes = Buffer.alloc((characters / 4) * 3, 7);
  Buffer.from(format === "png" ? [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] : [0xff, 0xd8, 0xff, 0xe0]).copy(bytes);
  const text = bytes.toString("base64");
  expect(text).toHaveLength(characters);
  return text;
}

describe("a valid request is normalized", () => {
  it("applies the defaults: the configured model, std mode, 5 s and 16:9 for text-to-video", () => {
    expect(requestOf({ prompt: "a cat surfing at dawn" })).toEqual({
      prompt: "a cat surfing at dawn",
      model: "kling-v2-6",
      mode: "std",
      duration: "5",
      aspectRatio: "16:9",
    });
  });

  it("takes the configured default model when the request names none", () => {
    expect(requestOf({ prompt: "a cat" }, { ...OPTIONS, defaultModel: "kling-v1-6" }).model).toBe("kling-v1-6");
  });

  it("keeps what the person chose over the defaults", () => {
    expect(
      requestOf({ prompt: "a cat", model: "kling-v2-5-turbo", mode: "pro", duration: "10", aspectRatio: "9:16", negativePrompt: "blur" }),
    ).toEqual({ prompt: "a cat", model: "kling-v2-5-turbo", mode: "pro", duration: "10", aspectRatio: "9:16", negativePrompt: "blur" });
  });

  it("turns the durations 5 and 10 given as numbers into Kling's strings", () => {
    expect(requestOf({ prompt: "a cat", duration: 5 }).duration).toBe("5");
    expect(requestOf({ prompt: "a cat", duration: 10 }).duration).toBe("10");
  });

  it("makes an image-to-video request from an image alone, with no aspect ratio and no prompt", () => {
    // kling-v2-6 takes a first and last frame at 1080p (pro) only.
    const request = requestOf({ image: IMAGE_URL, imageTail: TAIL_URL, mode: "pro" });
    expect(request).toEqual({ image: IMAGE_URL, imageTail: TAIL_URL, model: "kling-v2-6", mode: "pro", duration: "5" });
    expect(taskKind(request)).toBe("image2video");
    expect(taskKind(requestOf({ prompt: "a cat" }))).toBe("text2video");
  });

  it("makes a task of the new standard's kind for a model the new standard serves", () => {
    expect(taskKind(requestOf({ prompt: "a cat", model: "kling-3.0-turbo" }))).toBe("text-to-video");
    expect(taskKind(requestOf({ image: IMAGE_URL, model: "kling-2.6" }))).toBe("image-to-video");
    expect(taskKind(requestOf({ prompt: "a cat", model: "kling-v3" }))).toBe("text2video");
  });

  it("keeps only the moving axis of a simple camera move", () => {
    const request = requestOf({ prompt: "a cat", model: "kling-v1", cameraControl: { type: "simple", config: { pan: 5, zoom: 0 } } });
    expect(request.cameraControl).toEqual({ type: "simple", config: { pan: 5 } });
  });

  it("is read back unchanged by the schema the later states parse it with", () => {
    const request = requestOf({
      prompt: "a cat",
      model: "kling-v1",
      duration: 5,
      cfgScale: 0.3,
      cameraControl: { type: "simple", config: { zoom: -4 } },
      callbackUrl: "https://hooks.example.com/kling",
    });
    expect(generationRequestSchema.parse(request)).toEqual(request);
  });
});

describe("every problem is reported at once, in words that name the field as sent", () => {
  it("lists unknown fields, bad values and what the model refuses together", () => {
    expect(
      problemsOf({
        prompt: "   ",
        negative_prompt: "blur",
        model: "kling-v2-6",
        mode: 3,
        duration: "7",
        cfgScale: 0.5,
        aspectRatio: "4:3",
        color: "red",
      }),
    ).toEqual([
      "negative_prompt is not a known field (did you mean negativePrompt?)",
      "color is not a known field",
      "prompt must not be blank",
      'mode must be a string "std" or "pro", got 3',
      'aspectRatio must be one of "16:9", "9:16", "1:1" for kling-v2-6',
      'duration must be one of "5", "10" for kling-v2-6',
      "cfgScale is not accepted by kling-v2-6",
    ]);
  });

  it("refuses anything but a JSON object, with one clear problem", () => {
    for (const input of [null, undefined, "a cat", 42, ["a cat"]]) {
      expect(problemsOf(input)).toEqual(["the request must be a JSON object"]);
    }
  });

  it("needs a prompt unless an image is given", () => {
    expect(problemsOf({})).toEqual(["prompt is required"]);
    expect(problemsOf({ model: "kling-v1" })).toEqual(["prompt is required"]);
    expect(requestOf({ image: IMAGE_URL }).prompt).toBeUndefined();
  });

  it("names the wrong type and the value that was sent", () => {
    expect(problemsOf({ prompt: 42, negativePrompt: null, duration: true, sound: 1, cfgScale: "0.5", cameraControl: "pan" })).toEqual([
      "prompt must be a string, got 42",
      "negativePrompt must be a string, got null",
      'duration must be a string "5" or "10", got true',
      'cfgScale must be a number, got "0.5"',
      'sound must be a string "on" or "off", got 1',
      'cameraControl must be an object, got "pan"',
      "cfgScale is not accepted by kling-v2-6",
      `cameraControl is only accepted with ${CAMERA_COMBINATIONS} (got kling-v2-6, std mode, 5 s)`,
    ]);
  });

  it("says which models exist when the model is unknown", () => {
    expect(problemsOf({ prompt: "a cat", model: "kling-v9" })).toEqual([`model must be one of ${ALL_MODELS}`]);
    expect(problemsOf({ prompt: "a cat", model: "Kling-V2-6" })).toEqual([`model must be one of ${ALL_MODELS}`]);
  });

  it("refuses a duration other than 5 or 10 seconds, as a string or a number", () => {
    expect(problemsOf({ prompt: "a cat", duration: 7 })).toEqual(['duration must be one of "5", "10" for kling-v2-6']);
    expect(problemsOf({ prompt: "a cat", duration: "5.0" })).toEqual(['duration must be one of "5", "10" for kling-v2-6']);
  });

  it("keeps cfgScale within 0 to 1", () => {
    expect(requestOf({ prompt: "a cat", model: "kling-v1", cfgScale: 0 }).cfgScale).toBe(0);
    expect(requestOf({ prompt: "a cat", model: "kling-v1", cfgScale: 1 }).cfgScale).toBe(1);
    expect(problemsOf({ prompt: "a cat", model: "kling-v1", cfgScale: 1.5 })).toEqual(["cfgScale must be at most 1, got 1.5"]);
    expect(problemsOf({ prompt: "a cat", model: "kling-v1", cfgScale: -0.1 })).toEqual(["cfgScale must be at least 0, got -0.1"]);
  });

  it("points a field sent under Kling's snake_case or another spelling at its name here", () => {
    expect(problemsOf({ prompt: "a cat", model_name: "kling-v1", cfg_scale: 0.5, Duration: "5", external_task_id: "x" })).toEqual([
      "model_name is not a known field (did you mean model?)",
      "cfg_scale is not a known field (did you mean cfgScale?)",
      "Duration is not a known field (did you mean duration?)",
      "external_task_id is not a known field",
    ]);
  });

  it("never lets zod's own texts or paths through", () => {
    const problems = problemsOf({
      prompt: ["a cat"],
      model: {},
      mode: "fast",
      cfgScale: Number.NaN,
      cameraControl: { type: "spin", config: { pan: "5", yaw: 1 }, speed: 2 },
      image: 7,
      callbackUrl: "not a url",
    });
    expect(problems.length).toBeGreaterThanOrEqual(7);
    for (const problem of problems) {
      expect(problem).not.toMatch(/Invalid input|Invalid option|expected|received|Too (big|small)|Unrecognized|\[|\]/);
      expect(problem).toMatch(/^(prompt|model|mode|cfgScale|cameraControl|image|callbackUrl)\b/);
    }
  });
});

describe("prompts are counted in characters a person sees (Unicode code points)", () => {
  it("accepts 2500 emoji, which are 5000 UTF-16 units", () => {
    const prompt = "🎬".repeat(2500);
    expect(prompt.length).toBe(5000);
    expect(requestOf({ prompt }).prompt).toBe(prompt);
  });

  it("refuses 2501 characters and says how many there were", () => {
    expect(problemsOf({ prompt: "🎬".repeat(2501) })).toEqual(["prompt must be at most 2500 characters for kling-v2-6 (got 2501)"]);
    expect(problemsOf({ prompt: "猫".repeat(2501) })).toEqual(["prompt must be at most 2500 characters for kling-v2-6 (got 2501)"]);
    expect(problemsOf({ prompt: "a".repeat(2501) })).toEqual(["prompt must be at most 2500 characters for kling-v2-6 (got 2501)"]);
  });

  it("applies the same limit to the negative prompt", () => {
    expect(requestOf({ prompt: "a cat", negativePrompt: "é".repeat(2500) }).negativePrompt).toHaveLength(2500);
    expect(problemsOf({ prompt: "a cat", negativePrompt: "😀".repeat(2501) })).toEqual([
      "negativePrompt must be at most 2500 characters (got 2501)",
    ]);
  });
});

describe("images", () => {
  it("accepts https URLs and raw base64 PNG or JPEG", () => {
    expect(requestOf({ image: IMAGE_URL }).image).toBe(IMAGE_URL);
    expect(requestOf({ image: base64Image(400) }).image).toHaveLength(400);
    expect(requestOf({ image: base64Image(400, "jpeg"), imageTail: base64Image(400), mode: "pro" }).imageTail).toHaveLength(400);
  });

  it("refuses plain http, a data: prefix and text outside the base64 alphabet", () => {
    const png = base64Image(40);
    expect(
      problemsOf({
        image: `data:image/png;base64,${png}`,
        imageTail: "http://images.example.com/last.png",
      }),
    ).toEqual([
      'image must be raw base64 without a "data:" prefix (drop everything up to and including "base64,")',
      "imageTail must be an https URL (got http:)",
    ]);
    expect(problemsOf({ image: png.replace(/\+|\//g, "-") + "-_-_" })).toEqual([
      'image must be an https URL or raw base64, but it contains "-", which is not in the base64 alphabet (A-Z, a-z, 0-9, +, /)',
    ]);
    expect(problemsOf({ image: "frame.png" })).toEqual([
      'image must be an https URL or raw base64, but it contains ".", which is not in the base64 alphabet (A-Z, a-z, 0-9, +, /)',
    ]);
    expect(problemsOf({ image: `${png}\n${png}` })[0]).toContain('contains "\\n"');
  });

  it("refuses base64 that is cut short or that is not a JPEG or PNG", () => {
    expect(problemsOf({ image: base64Image(40).slice(0, 39) })).toEqual([
      "image is not valid base64 (its length must be a multiple of 4, with = padding only at the end)",
    ]);
    expect(problemsOf({ image: Buffer.from("GIF89a, not allowed").toString("base64") })).toEqual([
      "image is not a JPEG or PNG image (Kling accepts jpg, jpeg and png)",
    ]);
    expect(problemsOf({ image: "" })).toEqual(["image must be an https URL or raw base64, got an empty string"]);
  });

  it("takes imageTail only with image, and no aspect ratio with an image", () => {
    expect(problemsOf({ prompt: "a cat", imageTail: TAIL_URL })).toEqual([
      "imageTail is only accepted together with image (image is the first frame, imageTail the last)",
    ]);
    expect(problemsOf({ image: IMAGE_URL, aspectRatio: "16:9" })).toEqual([
      "aspectRatio is not accepted for image-to-video (the image sets it)",
    ]);
  });

  describe("base64 must fit a Step Functions payload", () => {
    it("keeps the limit at 192 KiB", () => {
      expect(MAX_BASE64_IMAGE_BYTES).toBe(192 * 1024);
    });

    it("accepts exactly 192 KiB and refuses the next base64 quantum", () => {
      expect(requestOf({ image: base64Image(192 * 1024) }).image).toHaveLength(196_608);
      expect(problemsOf({ image: base64Image(192 * 1024 + 4) })).toEqual([
        "image is 193 KiB of base64; a Step Functions payload carries at most 192 KiB: pass an https URL instead",
      ]);
    });

    it("asks for an https URL instead of a 300 KiB image", () => {
      expect(problemsOf({ image: base64Image(300 * 1024) })).toEqual([
        "image is 300 KiB of base64; a Step Functions payload carries at most 192 KiB: pass an https URL instead",
      ]);
    });

    it("counts image and imageTail together, and only the ones sent as base64", () => {
      expect(requestOf({ image: base64Image(96 * 1024), imageTail: base64Image(96 * 1024), mode: "pro" }).image).toBeDefined();
      expect(problemsOf({ image: base64Image(100 * 1024), imageTail: base64Image(100 * 1024), mode: "pro" })).toEqual([
        "image and imageTail are 200 KiB of base64 together; a Step Functions payload carries at most 192 KiB: pass https URLs instead",
      ]);
      expect(problemsOf({ image: IMAGE_URL, imageTail: base64Image(250 * 1024), mode: "pro" })).toEqual([
        "imageTail is 250 KiB of base64; a Step Functions payload carries at most 192 KiB: pass an https URL instead",
      ]);
    });
  });

  it("takes a callbackUrl of at most 2048 characters", () => {
    const base = "https://hooks.example.com/";
    const longest = base + "a".repeat(2048 - base.length);
    expect(requestOf({ prompt: "a cat", callbackUrl: longest }).callbackUrl).toBe(longest);
    expect(problemsOf({ prompt: "a cat", callbackUrl: `${longest}a` })).toEqual(["callbackUrl must be at most 2048 characters"]);
  });

  it("refuses a request whose JSON passes 200 KiB, whatever its fields add up from", () => {
    expect(MAX_REQUEST_BYTES).toBe(200 * 1024);
    // Each field within its own limit: the inline image at the most base64 allows, and two 2500-character prompts of 3-byte characters.
    const prompts = { prompt: "中".repeat(2500), negativePrompt: "文".repeat(2500) };
    const problems = problemsOf({ ...prompts, image: base64Image(MAX_BASE64_IMAGE_BYTES) });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^the request is 21\d{4} bytes of JSON, past the 204800 a Step Functions state holds for it: pass images as https URLs$/);
    expect(requestOf({ ...prompts, image: base64Image(MAX_BASE64_IMAGE_BYTES - 16 * 1024) })).toBeDefined();
  });

  it("wants the callback as an https URL", () => {
    expect(requestOf({ prompt: "a cat", callbackUrl: "https://hooks.example.com/kling" }).callbackUrl).toBe("https://hooks.example.com/kling");
    expect(problemsOf({ prompt: "a cat", callbackUrl: "http://hooks.example.com/kling" })).toEqual([
      "callbackUrl must be an https URL (got http:)",
    ]);
    expect(problemsOf({ prompt: "a cat", callbackUrl: "hooks.example.com/kling" })).toEqual(["callbackUrl must be an https URL"]);
  });
});

describe("camera control", () => {
  const kling1 = { prompt: "a cat", model: "kling-v1" };

  it("needs exactly one moving axis for a simple move", () => {
    const problem = "cameraControl.config must set exactly one of horizontal, vertical, pan, tilt, roll, zoom to a non-zero value";
    expect(problemsOf({ ...kling1, cameraControl: { type: "simple" } })).toEqual([problem]);
    expect(problemsOf({ ...kling1, cameraControl: { type: "simple", config: {} } })).toEqual([problem]);
    expect(problemsOf({ ...kling1, cameraControl: { type: "simple", config: { pan: 0 } } })).toEqual([problem]);
    expect(problemsOf({ ...kling1, cameraControl: { type: "simple", config: { pan: 2, tilt: 3 } } })).toEqual([problem]);
  });

  it("keeps each axis within -10 to 10 and knows only the six axes", () => {
    expect(requestOf({ ...kling1, cameraControl: { type: "simple", config: { roll: -10 } } }).cameraControl).toBeDefined();
    expect(problemsOf({ ...kling1, cameraControl: { type: "simple", config: { roll: 10.5 } } })).toEqual([
      "cameraControl.config.roll must be at most 10, got 10.5",
    ]);
    expect(problemsOf({ ...kling1, cameraControl: { type: "simple", config: { pan: 1, yaw: 1 } } })).toEqual([
      "cameraControl.config.yaw is not a known field",
    ]);
  });

  it("takes the named moves without a config", () => {
    for (const type of ["down_back", "forward_up", "right_turn_forward", "left_turn_forward"]) {
      expect(requestOf({ ...kling1, cameraControl: { type } }).cameraControl).toEqual({ type });
    }
    expect(problemsOf({ ...kling1, cameraControl: { type: "forward_up", config: { zoom: 2 } } })).toEqual([
      'cameraControl.config is only accepted with type "simple"',
    ]);
    expect(problemsOf({ ...kling1, cameraControl: { type: "spin" } })).toEqual([
      'cameraControl.type must be one of "simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"',
    ]);
  });

  it("is refused outside kling-v1 std 5 s and kling-v1-5 pro simple, saying what was asked", () => {
    const move = { type: "down_back" };
    expect(problemsOf({ ...kling1, mode: "pro", cameraControl: move })).toEqual([
      `cameraControl is only accepted with ${CAMERA_COMBINATIONS} (got kling-v1, pro mode, 5 s, type "down_back")`,
    ]);
    expect(problemsOf({ ...kling1, duration: "10", cameraControl: move })).toEqual([
      `cameraControl is only accepted with ${CAMERA_COMBINATIONS} (got kling-v1, std mode, 10 s, type "down_back")`,
    ]);
    expect(problemsOf({ prompt: "a cat", model: "kling-v1-6", cameraControl: move })).toEqual([
      `cameraControl is only accepted with ${CAMERA_COMBINATIONS} (got kling-v1-6, std mode, 5 s, type "down_back")`,
    ]);
  });

  it("is taken by kling-v1-5 in pro mode as a simple move only, and sent (updates log 2025-03-12)", () => {
    const v15 = { model: "kling-v1-5", image: IMAGE_URL, mode: "pro" };
    const simple = { type: "simple", config: { zoom: 4 } };
    expect(toCreateTaskBody(requestOf({ ...v15, cameraControl: simple }), "job-1").camera_control).toEqual(simple);
    expect(toCreateTaskBody(requestOf({ ...v15, duration: "10", cameraControl: simple }), "job-1").camera_control).toEqual(simple);
    expect(problemsOf({ ...v15, cameraControl: { type: "forward_up" } })).toEqual([
      `cameraControl is only accepted with ${CAMERA_COMBINATIONS} (got kling-v1-5, pro mode, 5 s, type "forward_up")`,
    ]);
    expect(problemsOf({ ...v15, mode: "std", cameraControl: simple })).toEqual([
      `cameraControl is only accepted with ${CAMERA_COMBINATIONS} (got kling-v1-5, std mode, 5 s, type "simple")`,
    ]);
  });
});

describe("blocked terms (the content-policy pre-check)", () => {
  const options = (...blockedTerms: string[]): ValidationOptions => ({ ...OPTIONS, blockedTerms });

  it("flags a blocked term whatever its case, as a content-policy problem", () => {
    expect(validateGenerationRequest({ prompt: "A cat kicks ASS at chess" }, options("ass"))).toEqual({
      ok: false,
      problems: ['prompt contains the blocked term "ass"'],
      contentPolicy: true,
    });
  });

  it("matches whole words only: a class act is not blocked by ass", () => {
    expect(requestOf({ prompt: "a class act; passing grass, assassin" }, options("ass")).prompt).toBeDefined();
  });

  it("matches a phrase across any whitespace, and only as whole words", () => {
    const blocked = options("bad thing");
    expect(problemsOf({ prompt: "a BAD \n thing happens" }, blocked)).toEqual(['prompt contains the blocked term "bad thing"']);
    expect(requestOf({ prompt: "a badthing, bad things" }, blocked).prompt).toBeDefined();
  });

  it("checks the negative prompt too, and reports each field and term", () => {
    expect(problemsOf({ prompt: "gore and blood", negativePrompt: "no Gore" }, options("gore", "blood", "fog"))).toEqual([
      'prompt contains the blocked term "gore"',
      'prompt contains the blocked term "blood"',
      'negativePrompt contains the blocked term "gore"',
    ]);
  });

  it("treats letters beyond ASCII and look-alike full-width letters as letters", () => {
    expect(problemsOf({ prompt: "un Café noir" }, options("café"))).toEqual(['prompt contains the blocked term "café"']);
    expect(requestOf({ prompt: "les cafés" }, options("café")).prompt).toBeDefined();
    expect(problemsOf({ prompt: "ｇｏｒｅ" }, options("gore"))).toEqual(['prompt contains the blocked term "gore"']);
  });

  it("reads a term with regular-expression characters literally", () => {
    expect(problemsOf({ prompt: "code in c++ now" }, options("c++"))).toEqual(['prompt contains the blocked term "c++"']);
    expect(requestOf({ prompt: "a x b" }, options("a.b")).prompt).toBeDefined();
  });

  it("reports blocked terms with the other problems, and still flags content policy", () => {
    expect(validateGenerationRequest({ prompt: "gore", duration: "7" }, options("gore"))).toEqual({
      ok: false,
      problems: ['duration must be one of "5", "10" for kling-v2-6', 'prompt contains the blocked term "gore"'],
      contentPolicy: true,
    });
    expect(validateGenerationRequest({ prompt: "a cat", duration: "7" }, options("gore"))).toMatchObject({ contentPolicy: false });
  });
});

describe("per-model capabilities (Kling's API documentation, Models and rules / The new standard)", () => {
  const FIVE_OR_TEN = ["5", "10"];
  const THREE_TO_FIFTEEN = ["3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"];
  const BOTH = ["std", "pro"];
  const WITH_4K = ["std", "pro", "4k"];
  interface Documented {
    readonly textToVideo: boolean;
    readonly modes: readonly string[];
    /** False: the model takes no mode parameter. */
    readonly modeParameter: boolean;
    readonly durations: readonly string[];
    readonly cfgScale: boolean;
    /** The modes sound "on" is made in; undefined: no sound parameter. */
    readonly soundModes: readonly string[] | undefined;
    /** Native audio with no switch (kling-3.0-turbo: its price row and the capability map say native audio, its pages no setting). */
    readonly alwaysNativeAudio?: boolean;
    /** The modes a last frame is taken in, and whether only silent; undefined: none. */
    readonly lastFrame: { readonly modes: readonly string[]; readonly silentOnly: boolean } | undefined;
    readonly cameraControl: boolean;
    readonly negativePrompt: boolean;
    readonly promptCharacters: number;
  }
  const legacy: Documented = {
    textToVideo: true,
    modes: BOTH,
    modeParameter: true,
    durations: FIVE_OR_TEN,
    cfgScale: false,
    soundModes: undefined,
    lastFrame: { modes: BOTH, silentOnly: false },
    cameraControl: false,
    negativePrompt: true,
    promptCharacters: 2500,
  };
  const newStandard: Documented = { ...legacy, negativePrompt: false };
  /** Written from the documentation, not from the table under test. */
  const DOCUMENTED: Readonly<Record<string, Documented>> = {
    "kling-v1": { ...legacy, cfgScale: true, cameraControl: true },
    // kling-v1-5, v1-6, v2-1: a last frame in pro mode only (updates log 2024-12-09, 2025-03-12, 2025-03-31).
    "kling-v1-5": { ...legacy, textToVideo: false, cfgScale: true, lastFrame: { modes: ["pro"], silentOnly: false } },
    "kling-v1-6": { ...legacy, cfgScale: true, lastFrame: { modes: ["pro"], silentOnly: false } },
    "kling-v2-master": { ...legacy, modes: ["pro"], modeParameter: false },
    "kling-v2-1": { ...legacy, textToVideo: false, lastFrame: { modes: ["pro"], silentOnly: false } },
    "kling-v2-1-master": { ...legacy, modes: ["pro"] },
    "kling-v2-5-turbo": { ...legacy, lastFrame: { modes: ["pro"], silentOnly: false } },
    "kling-v2-6": { ...legacy, soundModes: ["pro"], lastFrame: { modes: ["pro"], silentOnly: true } },
    // 4K: mode "4k" on kling-v3, settings.resolution "4k" on kling-3.0 (updates log 2026-04-23; the 3.0 pages).
    "kling-v3": { ...legacy, modes: WITH_4K, durations: THREE_TO_FIFTEEN, soundModes: WITH_4K, lastFrame: { modes: WITH_4K, silentOnly: false } },
    "kling-2.5-turbo": { ...newStandard, lastFrame: { modes: ["pro"], silentOnly: false } },
    "kling-2.6": { ...newStandard, soundModes: ["pro"], lastFrame: { modes: ["pro"], silentOnly: true } },
    "kling-3.0": { ...newStandard, modes: WITH_4K, durations: THREE_TO_FIFTEEN, soundModes: WITH_4K, lastFrame: { modes: WITH_4K, silentOnly: false }, promptCharacters: 3072 },
    "kling-3.0-turbo": { ...newStandard, durations: THREE_TO_FIFTEEN, lastFrame: undefined, promptCharacters: 3072, alwaysNativeAudio: true },
  };

  it("knows exactly the documented models, the same ones the pricing table prices", () => {
    expect([...MODEL_NAMES].sort()).toEqual(Object.keys(DOCUMENTED).sort());
    expect([...MODEL_NAMES].sort()).toEqual(Object.keys(PRICING).sort());
  });

  describe.each(Object.entries(DOCUMENTED))("%s", (model, documented) => {
    // Every model takes image-to-video; text-to-video where documented.
    const base = documented.textToVideo ? { model, prompt: "a cat" } : { model, image: IMAGE_URL };
    const [firstMode] = documented.modes;
    const modeOf = (mode: string) => ({ mode });

    it(documented.textToVideo ? "makes videos from text and from an image" : "makes videos from an image only", () => {
      expect(requestOf({ model, image: IMAGE_URL, prompt: "a cat" }).model).toBe(model);
      if (documented.textToVideo) {
        expect(requestOf({ model, prompt: "a cat" }).model).toBe(model);
      } else {
        expect(problemsOf({ model, prompt: "a cat" })).toEqual([`model ${model} does not accept text-to-video; use one of ${TEXT_MODELS}`]);
      }
    });

    it(`takes modes ${documented.modes.join(", ")} and durations ${documented.durations.join(", ")}, and no other`, () => {
      for (const mode of documented.modes) {
        for (const duration of documented.durations) expect(requestOf({ ...base, ...modeOf(mode), duration })).toMatchObject({ mode, duration });
      }
      // A request that names no mode gets the model's first (for the masters: its only one).
      expect(requestOf(base).mode).toBe(firstMode);
      for (const duration of THREE_TO_FIFTEEN.filter((candidate) => !documented.durations.includes(candidate))) {
        expect(problemsOf({ ...base, duration })).toEqual([`duration must be one of "5", "10" for ${model}`]);
      }
      if (!documented.modes.includes("std")) {
        expect(problemsOf({ ...base, mode: "std" })).toEqual([`mode must be one of "pro" for ${model} (pro mode (1080p) only)`]);
      }
    });

    it(documented.modeParameter ? "sends its mode to Kling" : "sends Kling no mode (it has no mode parameter)", () => {
      expect(toCreateTaskBody(requestOf(base), "job-1").mode).toBe(documented.modeParameter ? firstMode : undefined);
    });

    if (documented.textToVideo) {
      it("takes the three aspect ratios for text-to-video", () => {
        for (const aspectRatio of ["16:9", "9:16", "1:1"]) expect(requestOf({ ...base, aspectRatio }).aspectRatio).toBe(aspectRatio);
      });
    }

    it(`takes a prompt of ${documented.promptCharacters} characters, not one more`, () => {
      const at = (characters: number) => ({ model, prompt: "a".repeat(characters), ...(documented.textToVideo ? {} : { image: IMAGE_URL }) });
      expect(requestOf(at(documented.promptCharacters)).model).toBe(model);
      expect(problemsOf(at(documented.promptCharacters + 1))).toEqual([
        `prompt must be at most ${documented.promptCharacters} characters for ${model} (got ${documented.promptCharacters + 1})`,
      ]);
    });

    it(documented.negativePrompt ? "takes a negative prompt" : "refuses a negative prompt (the new standard has none)", () => {
      if (documented.negativePrompt) expect(requestOf({ ...base, negativePrompt: "blur" }).negativePrompt).toBe("blur");
      else expect(problemsOf({ ...base, negativePrompt: "blur" })).toEqual([expect.stringMatching(new RegExp(`^negativePrompt is not accepted by ${model} `))]);
    });

    it(documented.cfgScale ? "takes cfgScale" : "refuses cfgScale", () => {
      if (documented.cfgScale) expect(requestOf({ ...base, cfgScale: 0.7 }).cfgScale).toBe(0.7);
      else expect(problemsOf({ ...base, cfgScale: 0.7 })).toEqual([`cfgScale is not accepted by ${model}`]);
    });

    const soundModes = documented.soundModes;
    it(soundModes ? `takes sound, native audio in ${soundModes.join(" and ")} mode` : "refuses sound", () => {
      if (!soundModes) {
        const always = documented.alwaysNativeAudio ? ` (${model} always makes native audio and has no switch for it)` : "";
        expect(problemsOf({ ...base, sound: "off" })).toEqual([`sound is only accepted by kling-v2-6, kling-v3, kling-2.6, kling-3.0${always}`]);
        expect(MODELS[model as ModelName].alwaysNativeAudio).toBe(documented.alwaysNativeAudio === true);
        return;
      }
      for (const mode of BOTH) {
        expect(requestOf({ ...base, mode, sound: "off" }).sound).toBe("off");
        if (soundModes.includes(mode)) expect(requestOf({ ...base, mode, sound: "on" }).sound).toBe("on");
        else {
          expect(problemsOf({ ...base, mode, sound: "on" })).toEqual([
            `sound "on" (native audio) is only made in pro mode (1080p) by ${model} (got ${mode} mode): set mode to "pro" or sound to "off"`,
          ]);
        }
      }
    });

    const lastFrame = documented.lastFrame;
    it(lastFrame ? `takes a last frame (imageTail) in ${lastFrame.modes.join(" and ")} mode${lastFrame.silentOnly ? ", silent" : ""}` : "refuses a last frame (imageTail)", () => {
      const frames = { model, image: IMAGE_URL, imageTail: TAIL_URL };
      if (!lastFrame) {
        expect(problemsOf(frames)).toEqual([expect.stringMatching(new RegExp(`^imageTail \\(a last frame\\) is not accepted by ${model}; use one of "kling-v1"`))]);
        return;
      }
      for (const mode of documented.modes) {
        if (lastFrame.modes.includes(mode)) expect(requestOf({ ...frames, ...modeOf(mode) }).imageTail).toBe(TAIL_URL);
        else expect(problemsOf({ ...frames, mode })).toEqual([`imageTail (first and last frame) is only accepted in pro mode (1080p) by ${model} (got ${mode} mode)`]);
      }
      if (soundModes?.includes("pro")) {
        const withAudio = { ...frames, mode: "pro", sound: "on" };
        if (lastFrame.silentOnly) {
          expect(problemsOf(withAudio)).toEqual([`imageTail (first and last frame) is only accepted without native audio by ${model}: set sound to "off" or drop imageTail`]);
        } else expect(requestOf(withAudio).sound).toBe("on");
      }
    });

    it(documented.cameraControl ? "takes camera control in std mode for 5 s" : "refuses camera control", () => {
      const request = { ...base, ...modeOf(firstMode), duration: "5", cameraControl: { type: "simple", config: { zoom: 3 } } };
      if (documented.cameraControl) expect(requestOf(request).cameraControl).toEqual({ type: "simple", config: { zoom: 3 } });
      else {
        expect(problemsOf(request)).toContain(`cameraControl is only accepted with ${CAMERA_COMBINATIONS} (got ${model}, ${firstMode} mode, 5 s, type "simple")`);
      }
    });
  });

  it("refuses a std last frame on kling-v1-5, kling-v1-6 and kling-v2-1, naming the field (Kling: pro only)", () => {
    for (const model of ["kling-v1-5", "kling-v1-6", "kling-v2-1"]) {
      expect(problemsOf({ model, image: IMAGE_URL, imageTail: TAIL_URL, mode: "std" })).toEqual([
        `imageTail (first and last frame) is only accepted in pro mode (1080p) by ${model} (got std mode)`,
      ]);
    }
  });

  it("refuses a last frame together with camera control (Kling: mutually exclusive), naming both", () => {
    const request = { model: "kling-v1", image: IMAGE_URL, imageTail: TAIL_URL, cameraControl: { type: "simple", config: { zoom: 3 } } };
    expect(problemsOf(request)).toEqual([
      "imageTail and cameraControl cannot be combined: Kling takes a last frame, motion brush or camera control, one at a time",
    ]);
  });

  it("reports every broken rule of a new-standard request at once", () => {
    expect(problemsOf({ model: "kling-2.6", prompt: "a".repeat(2501), negativePrompt: "blur", duration: "7", sound: "on", image: IMAGE_URL, imageTail: TAIL_URL })).toEqual([
      "prompt must be at most 2500 characters for kling-2.6 (got 2501)",
      'duration must be one of "5", "10" for kling-2.6',
      "negativePrompt is not accepted by kling-2.6 (Kling's new API standard has none: say what to avoid in the prompt)",
      'sound "on" (native audio) is only made in pro mode (1080p) by kling-2.6 (got std mode): set mode to "pro" or sound to "off"',
      "imageTail (first and last frame) is only accepted in pro mode (1080p) by kling-2.6 (got std mode)",
      'imageTail (first and last frame) is only accepted without native audio by kling-2.6: set sound to "off" or drop imageTail',
    ]);
  });

  it("says so when the configured default model cannot make the kind of video asked for", () => {
    expect(problemsOf({ prompt: "a cat" }, { ...OPTIONS, defaultModel: "kling-v1-5" })).toEqual([
      `the default model kling-v1-5 does not accept text-to-video; set model to one of ${TEXT_MODELS}`,
    ]);
  });

  it("refuses to run with a default model it does not know (a configuration error, not the user's)", () => {
    expect(() => validateGenerationRequest({ prompt: "a cat" }, { ...OPTIONS, defaultModel: "kling-v9" })).toThrow(
      'the default model "kling-v9" is not one of',
    );
  });
});

describe("toCreateTaskBody: Kling's snake_case create body", () => {
  it("writes a text-to-video request with the external task id, and never the requester's callbackUrl (the pipeline notifies that URL itself)", () => {
    const request = requestOf({
      prompt: "a cat",
      negativePrompt: "blur",
      model: "kling-v2-6",
      mode: "pro",
      duration: 10,
      sound: "on",
      callbackUrl: "https://hooks.example.com/kling",
    });
    expect(toCreateTaskBody(request, "job-1")).toEqual({
      model_name: "kling-v2-6",
      prompt: "a cat",
      negative_prompt: "blur",
      mode: "pro",
      duration: "10",
      aspect_ratio: "16:9",
      sound: "on",
      external_task_id: "job-1",
    });
  });

  it("always says multi_shot false on the models with the switch (it defaults to true on 3.0), and sends none elsewhere", () => {
    const shotLike = "shot 1, 2, a door opens; shot 2, 3, a cat walks in;";
    expect(toCreateTaskBody(requestOf({ prompt: shotLike, model: "kling-3.0" }), "job-1").multi_shot).toBe(false);
    expect(toCreateTaskBody(requestOf({ prompt: shotLike, model: "kling-v3" }), "job-1").multi_shot).toBe(false);
    for (const model of ["kling-3.0-turbo", "kling-2.6", "kling-v2-6"]) {
      expect(toCreateTaskBody(requestOf({ prompt: "a cat", model }), "job-1")).not.toHaveProperty("multi_shot");
    }
  });

  it("writes cfg_scale and camera_control for kling-v1", () => {
    const request = requestOf({ prompt: "a cat", model: "kling-v1", cfgScale: 0.2, cameraControl: { type: "simple", config: { tilt: -3, pan: 0 } } });
    expect(toCreateTaskBody(request, "job-2")).toEqual({
      model_name: "kling-v1",
      prompt: "a cat",
      mode: "std",
      duration: "5",
      aspect_ratio: "16:9",
      cfg_scale: 0.2,
      camera_control: { type: "simple", config: { tilt: -3 } },
      external_task_id: "job-2",
    });
  });

  it("writes an image-to-video request with both frames and no aspect ratio", () => {
    const request = requestOf({ image: IMAGE_URL, imageTail: TAIL_URL, model: "kling-v2-1", mode: "pro" });
    expect(toCreateTaskBody(request, "job-3")).toEqual({
      model_name: "kling-v2-1",
      mode: "pro",
      duration: "5",
      image: IMAGE_URL,
      image_tail: TAIL_URL,
      external_task_id: "job-3",
    });
  });

  it("leaves out whatever the model does not accept, even from a request built by hand", () => {
    const handMade: GenerationRequest = {
      prompt: "a cat",
      model: "kling-v2-master",
      mode: "pro",
      duration: "10",
      cfgScale: 0.5,
      sound: "on",
      cameraControl: { type: "down_back" },
    };
    // kling-v2-master has no mode parameter: it renders 1080p without being told.
    expect(toCreateTaskBody(handMade, "job-4")).toEqual({
      model_name: "kling-v2-master",
      prompt: "a cat",
      duration: "10",
      external_task_id: "job-4",
    });
  });
});

describe("products (lambdas/schemas/products.ts) and multi-shot (Kling's 3.0 pages; kling-v3's multi_prompt)", () => {
  const shots = [
    { prompt: "a door opens", duration: 2 },
    { prompt: "a cat walks in", duration: 3 },
  ];

  it("defaults the product to text-to-video, or image-to-video with an image, and refuses one that does not fit", () => {
    expect(requestOf({ prompt: "a cat", product: "text-to-video" }).product).toBe("text-to-video");
    expect(requestOf({ image: IMAGE_URL, product: "image-to-video" }).product).toBe("image-to-video");
    expect(problemsOf({ image: IMAGE_URL, product: "text-to-video" })).toEqual(["product text-to-video takes no image: set product to image-to-video, or leave it out"]);
    expect(problemsOf({ prompt: "a cat", product: "image-to-video" })).toEqual(["image is required for product image-to-video"]);
    expect(problemsOf({ prompt: "a cat", product: "slideshow" })).toEqual([expect.stringMatching(/^product must be one of "text-to-video", "image-to-video", "multi-shot"/)]);
  });

  it("refuses, naming why, a product whose price Kling does not publish and one this pipeline does not run", () => {
    expect(problemsOf({ prompt: "a cat", product: "video-effects" })).toEqual([
      expect.stringMatching(/^product video-effects is refused: its price is not known \(not on Kling's price page: effects have their own list\), and a price is never guessed/),
    ]);
    expect(problemsOf({ prompt: "a cat", product: "lip-sync" })).toEqual([expect.stringMatching(/^product lip-sync is refused: this pipeline does not run it yet; products run here: /)]);
  });

  it("refuses a product on a model without it, naming the models that have it", () => {
    expect(problemsOf({ product: "multi-shot", model: "kling-2.6", multiPrompt: shots })).toEqual([
      'product multi-shot is not offered by kling-2.6; set model to one of "kling-v3", "kling-3.0", "kling-3.0-turbo"',
    ]);
  });

  it("sends kling-v3's shots as multi_prompt, with multi_shot true and shot_type customize, and no prompt", () => {
    const request = requestOf({ product: "multi-shot", model: "kling-v3", multiPrompt: shots });
    expect(toCreateTaskBody(request, "job-1")).toMatchObject({
      model_name: "kling-v3",
      multi_shot: true,
      shot_type: "customize",
      multi_prompt: [
        { index: 1, prompt: "a door opens", duration: "2" },
        { index: 2, prompt: "a cat walks in", duration: "3" },
      ],
    });
    expect(toCreateTaskBody(request, "job-1")).not.toHaveProperty("prompt");
  });

  it("writes 3.0's shots in its prompt form, with multi_shot true (none on 3.0 Turbo, which has no switch)", () => {
    const body = toCreateTaskBody(requestOf({ product: "multi-shot", model: "kling-3.0", multiPrompt: shots }), "job-1");
    expect(body).toMatchObject({ prompt: "shot 1, 2, a door opens; shot 2, 3, a cat walks in;", multi_shot: true });
    const turbo = toCreateTaskBody(requestOf({ product: "multi-shot", model: "kling-3.0-turbo", multiPrompt: shots }), "job-1");
    expect(turbo.prompt).toBe("shot 1, 2, a door opens; shot 2, 3, a cat walks in;");
    expect(turbo).not.toHaveProperty("multi_shot");
  });

  it("refuses a shot list that does not add up to the duration, naming the field and the sum", () => {
    expect(problemsOf({ product: "multi-shot", model: "kling-3.0", multiPrompt: shots, duration: "7" })).toEqual([
      "multiPrompt lasts 2 + 3 = 5 s, but duration is 7 s: the shots must add up to it",
    ]);
    expect(problemsOf({ product: "multi-shot", model: "kling-v3", multiPrompt: [{ prompt: "rain", duration: 2 }], duration: "3" })).toEqual([
      "multiPrompt lasts 2 = 2 s, but duration is 3 s: the shots must add up to it",
    ]);
  });

  it("refuses more than 6 shots, a shot under 1 s or over 512 characters, and a \";\" where the shots go in the prompt", () => {
    const seven = Array.from({ length: 7 }, () => ({ prompt: "a beat", duration: 1 }));
    expect(problemsOf({ product: "multi-shot", model: "kling-3.0", multiPrompt: seven, duration: "7" })).toEqual(["multiPrompt must be at most 6, got an array"]);
    expect(problemsOf({ product: "multi-shot", model: "kling-v3", multiPrompt: [{ prompt: "a", duration: 0 }, { prompt: "b", duration: 5 }] })).toEqual([
      "multiPrompt.0.duration must be at least 1, got 0",
    ]);
    expect(problemsOf({ product: "multi-shot", model: "kling-v3", multiPrompt: [{ prompt: "a".repeat(513), duration: 5 }] })).toEqual([
      "multiPrompt.0.prompt must be at most 512 characters (got 513)",
    ]);
    expect(problemsOf({ product: "multi-shot", model: "kling-3.0", multiPrompt: [{ prompt: "rain; sun", duration: 5 }] })).toEqual([
      'multiPrompt.0.prompt must not contain ";" for kling-3.0 (its shots go in the prompt, separated by semicolons)',
    ]);
  });

  it("needs the shots for a multi-shot product, and takes multiPrompt only with it", () => {
    expect(problemsOf({ product: "multi-shot", model: "kling-v3", prompt: "a cat" })).toEqual(["product multi-shot needs its shots: multiPrompt, 1 to 6 of {prompt, duration}"]);
    expect(problemsOf({ product: "multi-shot", model: "kling-3.0", prompt: "shot 1, 2, rain; shot 2, 3, sun;" })).toEqual(["product multi-shot needs its shots: multiPrompt, 1 to 6 of {prompt, duration}"]);
    expect(problemsOf({ model: "kling-3.0", multiPrompt: shots })).toEqual(["multiPrompt is only taken with product multi-shot"]);
    expect(problemsOf({ product: "multi-shot", model: "kling-3.0", prompt: "a cat", multiPrompt: shots })).toEqual([
      "prompt and multiPrompt cannot be combined: a multi-shot video's words are its shots' prompts",
    ]);
  });

  it("refuses a shot-form prompt on 3.0 Turbo unless the product is multi-shot (it has no switch to say no)", () => {
    expect(problemsOf({ model: "kling-3.0-turbo", prompt: "shot 1, 2, rain; shot 2, 3, sun;" })).toEqual([
      'prompt is in Kling\'s multi-shot form ("shot n, m, words;"), which kling-3.0-turbo always makes into shots (it has no multi_shot switch): set product to multi-shot',
    ]);
    // On 3.0 the same prompt stays one shot: multi_shot false is sent.
    expect(toCreateTaskBody(requestOf({ model: "kling-3.0", prompt: "shot 1, 2, rain; shot 2, 3, sun;" }), "job-1").multi_shot).toBe(false);
  });

  it("checks each shot's words for blocked terms", () => {
    expect(problemsOf({ product: "multi-shot", model: "kling-v3", multiPrompt: [{ prompt: "gore", duration: 5 }] }, { ...OPTIONS, blockedTerms: ["gore"] })).toEqual([
      'multiPrompt.0.prompt contains the blocked term "gore"',
    ]);
  });
});

describe("4K (updates log 2026-04-23: mode \"4k\" on kling-v3; the 3.0 pages: settings.resolution \"4k\")", () => {
  it("is the default mode of product 4k, and is sent as mode 4k to kling-v3 and kling-3.0", () => {
    expect(toCreateTaskBody(requestOf({ product: "4k", model: "kling-v3", prompt: "a cat" }), "job-1").mode).toBe("4k");
    expect(toCreateTaskBody(requestOf({ model: "kling-3.0", prompt: "a cat", mode: "4k" }), "job-1").mode).toBe("4k");
  });

  it("is refused on a model without it, and product 4k in another mode", () => {
    expect(problemsOf({ product: "4k", model: "kling-2.6", prompt: "a cat" })).toEqual([
      'mode must be one of "std", "pro" for kling-2.6 (std mode (720p), pro mode (1080p) only)',
      'product 4k is not offered by kling-2.6; set model to one of "kling-v3", "kling-3.0"',
    ]);
    expect(problemsOf({ product: "4k", model: "kling-3.0", prompt: "a cat", mode: "pro" })).toEqual(['product 4k is made in mode "4k" (got mode "pro")']);
  });
});
