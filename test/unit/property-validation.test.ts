/**
 * Properties of request validation, checked on generated input: whatever JSON a person sends,
 * the validator answers (never throws), a valid request normalizes once and for all, and a
 * refusal is a list of problems in words, never zod's texts, "[object Object]" or a stack.
 * Prompt lengths are counted in code points, so the 2500 limit holds exactly for any Unicode.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CAMERA_AXES, CAMERA_CONTROL_TYPES } from "#lambdas/kling/wire";
import { WIRE_FIELD_NAMES } from "#lambdas/schemas/generation-request";
import { ASPECT_RATIOS, DURATIONS, MODEL_NAMES, MODELS, MODES, SOUND_SETTINGS, type ModelName } from "#lambdas/schemas/models";
import {
  generationRequestSchema,
  validateGenerationRequest,
  type ValidationOptions,
  type ValidationResult,
} from "#lambdas/schemas/validation";

const OPTIONS: ValidationOptions = { defaultModel: "kling-v2-6", blockedTerms: ["gore"] };

/** Fixed seeds: a failure in CI replays the same way on any machine. */
const SEED = 0x6b6c696e;

/** Texts zod writes when it is left to speak for itself. */
const ZOD_DEFAULT_TEXTS = [
  /Invalid input/i,
  /Invalid option/i,
  /Invalid (string|number|type|union|element|key|value)\b/i,
  /\bToo (big|small)\b/,
  /Unrecognized keys?/i,
  /expected \w+, received/i,
];

/** Each problem is one non-empty line of words that begins with what it is about. */
function expectHumanProblems(problems: readonly string[]): void {
  expect(problems.length).toBeGreaterThan(0);
  for (const problem of problems) {
    expect(typeof problem).toBe("string");
    expect(problem.trim()).not.toBe("");
    expect(problem).toBe(problem.trim());
    expect(problem).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(problem).not.toContain("[object ");
    expect(problem).not.toMatch(/\bgot (undefined|NaN)\b/);
    expect(problem).not.toMatch(/^\s+at /m);
    for (const text of ZOD_DEFAULT_TEXTS) expect(problem).not.toMatch(text);
  }
}

/** What holds for every answer, whatever the input. */
function expectSoundAnswer(result: ValidationResult): void {
  if (result.ok) {
    // Normalizing is idempotent: the normalized request is valid and normalizes to itself,
    // also after the JSON round trip it makes through the Step Functions state.
    expect(generationRequestSchema.safeParse(result.request).success).toBe(true);
    expect(validateGenerationRequest(result.request, OPTIONS)).toEqual(result);
    const travelled: unknown = JSON.parse(JSON.stringify(result.request));
    expect(travelled).toEqual(result.request);
    expect(validateGenerationRequest(travelled, OPTIONS)).toEqual(result);
  } else {
    expectHumanProblems(result.problems);
    expect(result.contentPolicy).toBe(result.problems.some((problem) => problem.includes("contains the blocked term")));
  }
}

function validate(input: unknown): ValidationResult {
  return validateGenerationRequest(input, OPTIONS);
}

/** Any value, as it comes out of JSON.parse (undefined, functions and the like do not survive JSON). */
function throughJson(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

const anyJson = fc.jsonValue({ maxDepth: 3 });

/** Raw base64 of a PNG (or JPEG) `characters` long. */
function base64Image(characters: number, signature: readonly number[]): string {
  const bytes = Buffer.alloc((characters / 4) * 3, 7);
  Buffer.from(signature).copy(bytes);
  return bytes.toString("base64");
}
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff, 0xe0];
/** 100 KiB each: one fits the 192 KiB inline limit, two together do not. */
const LARGE_PNG = base64Image(100 * 1024, PNG);

const promptLike = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 60 }),
  fc.constantFrom("a cat surfing at dawn", "", "   ", "\u3000", "so much gore", "GORE!", "ｇｏｒｅ", "gored, goring", "🎬 a film"),
  anyJson,
);

const imageLike = fc.oneof(
  fc.constantFrom(
    "https://images.example.com/first-frame.png",
    "http://images.example.com/first-frame.png",
    "data:image/png;base64,iVBORw0KGgo=",
    base64Image(24, PNG),
    base64Image(24, JPEG),
    "AAAA",
    "AAA",
    "iVBORw0KGgo",
    "not base64!",
    "",
    "mailto:someone",
    LARGE_PNG,
  ),
  fc.webUrl(),
  fc.base64String({ maxLength: 40 }),
  anyJson,
);

const cameraControlLike = fc.oneof(
  fc.record(
    {
      type: fc.oneof(fc.constantFrom(...CAMERA_CONTROL_TYPES, "spin"), anyJson),
      config: fc.oneof(
        fc.dictionary(
          fc.constantFrom(...CAMERA_AXES, "yaw", ""),
          fc.oneof(fc.integer({ min: -12, max: 12 }), fc.double({ min: -11, max: 11, noNaN: true }), anyJson),
          { maxKeys: 3 },
        ),
        anyJson,
      ),
      extra: anyJson,
    },
    { requiredKeys: ["type"] },
  ),
  anyJson,
);

/** Each real field with values around what it accepts, and now and then anything at all. */
const FIELD_VALUES = {
  prompt: promptLike,
  negativePrompt: promptLike,
  model: fc.oneof(fc.constantFrom(...MODEL_NAMES, "kling-v9", "KLING-V1", ""), anyJson),
  mode: fc.oneof(fc.constantFrom(...MODES, "fast"), anyJson),
  aspectRatio: fc.oneof(fc.constantFrom(...ASPECT_RATIOS, "4:3"), anyJson),
  duration: fc.oneof(fc.constantFrom(...DURATIONS, 5, 10, 5.0, "7", 7, 5.5, -5), anyJson),
  cfgScale: fc.oneof(fc.double({ min: -0.5, max: 1.5, noNaN: true }), fc.constantFrom(0, 1, 0.5), anyJson),
  sound: fc.oneof(fc.constantFrom(...SOUND_SETTINGS, "loud"), anyJson),
  cameraControl: cameraControlLike,
  image: imageLike,
  imageTail: imageLike,
  callbackUrl: fc.oneof(fc.constantFrom("https://hooks.example.com/kling", "http://hooks.example.com", "ftp://x", "not a url", ""), fc.webUrl(), anyJson),
};

/** Keys that are not fields: Kling's wire names, near misses, and anything. */
const otherKey = fc
  .oneof(
    fc.constantFrom(...Object.values(WIRE_FIELD_NAMES).filter((name) => name !== undefined), "Duration", "NegativePrompt", "color", "__proto__", "constructor", ""),
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.string({ unit: "grapheme", minLength: 30, maxLength: 200 }),
  )
  .filter((key) => !Object.hasOwn(FIELD_VALUES, key));

type FieldName = keyof typeof FIELD_VALUES;
const FIELD_NAMES = Object.keys(FIELD_VALUES) as FieldName[];

/** A prompt no rule refuses. */
const cleanPrompt = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 60 })
  .filter((text) => text.trim() !== "" && !/gore/i.test(text.normalize("NFKC")));

/** A request valid for its model, built from the capability table (so it exercises every model). */
const validRequest: fc.Arbitrary<Record<string, unknown>> = fc.constantFrom(...MODEL_NAMES).chain((model) => {
  const capabilities = MODELS[model];
  const camera = capabilities.cameraControl;
  return fc
    .record(
      {
        kind: fc.constantFrom(...capabilities.inputs),
        namesModel: fc.boolean(),
        prompt: cleanPrompt,
        negativePrompt: fc.string({ unit: "grapheme", maxLength: 40 }).filter((text) => !/gore/i.test(text.normalize("NFKC"))),
        mode: fc.constantFrom(...(camera?.modes ?? capabilities.modes)),
        duration: fc.constantFrom(...(camera?.durations ?? capabilities.durations)).chain((duration) => fc.constantFrom(duration, Number(duration))),
        aspectRatio: fc.constantFrom(...capabilities.aspectRatios),
        cfgScale: fc.double({ min: 0, max: 1, noNaN: true }),
        sound: fc.constantFrom(...SOUND_SETTINGS),
        cameraControl: fc.oneof(
          fc.constantFrom(...CAMERA_CONTROL_TYPES.filter((type) => type !== "simple")).map((type) => ({ type })),
          fc
            .tuple(fc.constantFrom(...CAMERA_AXES), fc.integer({ min: -10, max: 10 }).filter((value) => value !== 0), fc.constantFrom(...CAMERA_AXES))
            .map(([axis, value, still]) => ({ type: "simple", config: { [still]: 0, [axis]: value } })),
        ),
        image: fc.constantFrom("https://images.example.com/first-frame.png", base64Image(24, PNG), base64Image(24, JPEG)),
        imageTail: fc.constantFrom("https://images.example.com/last-frame.png", base64Image(24, PNG)),
        callbackUrl: fc.constantFrom("https://hooks.example.com/kling", "https://hooks.example.com/kling?job=1"),
      },
      { requiredKeys: ["kind", "namesModel", "prompt", "image"] },
    )
    .map(({ kind, namesModel, prompt, negativePrompt, mode, image, imageTail, aspectRatio, cfgScale, sound, cameraControl, ...rest }) => {
      const modeSent = mode ?? capabilities.defaultMode;
      // Native audio only in the model's sound modes; a last frame only where, and as, the model takes one.
      const soundSent = capabilities.sound && sound !== undefined && (sound === "off" || capabilities.sound.modes.includes(modeSent)) ? sound : undefined;
      const lastFrame = capabilities.lastFrame;
      const tailFits = lastFrame !== undefined && lastFrame.modes.includes(modeSent) && !(lastFrame.silentOnly && soundSent === "on");
      // Camera control only in its modes (a request naming no mode gets the default) and of its types (kling-v1-5: simple).
      const cameraFits = camera !== undefined && cameraControl !== undefined && camera.modes.includes(modeSent) && (camera.types as readonly string[]).includes(cameraControl.type);
      const cameraSent = cameraFits ? cameraControl : undefined;
      return {
        ...rest,
        ...(namesModel || model !== OPTIONS.defaultModel ? { model } : {}),
        ...(mode === undefined ? {} : { mode }),
        ...(kind === "text" ? { prompt } : { image, ...(imageTail !== undefined && tailFits && cameraSent === undefined ? { imageTail } : {}) }),
        ...(kind === "text" && aspectRatio !== undefined ? { aspectRatio } : {}),
        ...(capabilities.negativePrompt && negativePrompt !== undefined ? { negativePrompt } : {}),
        ...(capabilities.cfgScale && cfgScale !== undefined ? { cfgScale } : {}),
        ...(soundSent === undefined ? {} : { sound: soundSent }),
        ...(cameraSent === undefined ? {} : { cameraControl: cameraSent }),
      };
    });
});

/** One change that may break a request: a field set to a value around what it accepts, a field dropped, a key added. */
const mutation = fc.oneof(
  fc.constantFrom(...FIELD_NAMES).chain((field) => FIELD_VALUES[field].map((value) => ({ set: field, value }))),
  fc.constantFrom(...FIELD_NAMES).map((field) => ({ drop: field })),
  fc.tuple(otherKey, anyJson).map(([key, value]) => ({ set: key, value })),
);

/** Valid requests with up to three changes: validation gets past "not an object" into every rule, on both sides. */
const nearValidRequest = fc.tuple(validRequest, fc.array(mutation, { maxLength: 3 })).map(([request, changes]) => {
  const changed: Record<string, unknown> = { ...request };
  for (const change of changes) {
    if ("drop" in change) delete changed[change.drop];
    else changed[change.set] = change.value;
  }
  return changed;
});

describe("the validator answers any JSON a person may send", () => {
  it("never throws, and a valid answer re-validates to itself while a refusal lists problems in words (any JSON value)", () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        expectSoundAnswer(validate(value));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it("does the same for any JavaScript value once it has been through JSON", () => {
    fc.assert(
      fc.property(fc.anything().map(throughJson), (value) => {
        expectSoundAnswer(validate(value));
      }),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  it("does the same for records of the real fields with values around what they accept", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(nearValidRequest, (request) => {
        const result = validate(request);
        if (result.ok) accepted += 1;
        else refused += 1;
        expectSoundAnswer(result);
      }),
      { seed: SEED + 2, numRuns: 800 },
    );
    // Both branches are reached, each often enough to matter.
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it("accepts every request built to be valid for its model", () => {
    fc.assert(
      fc.property(validRequest, (request) => {
        const result = validate(request);
        if (!result.ok) expect.fail(`refused ${JSON.stringify(request)}: ${result.problems.join("; ")}`);
        expectSoundAnswer(result);
      }),
      { seed: SEED + 4, numRuns: 300 },
    );
  });

  it("names an unknown field so that it can be read, whatever characters its name has", () => {
    fc.assert(
      fc.property(otherKey, anyJson, (key, value) => {
        const result = validate({ prompt: "a cat surfing at dawn", [key]: value });
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expectHumanProblems(result.problems);
        expect(result.problems).toHaveLength(1);
        expect(result.problems[0]).toMatch(/ is not a known field( \(did you mean \w+\?\))?$/);
      }),
      { seed: SEED + 3, numRuns: 300 },
    );
  });
});

/** One code point at a time: any at all, astral-plane ones, combining marks and joiners. */
const codePoint = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0x1f300, max: 0x1faff }).map((point) => String.fromCodePoint(point)),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map((point) => String.fromCodePoint(point)),
  fc.integer({ min: 0x0300, max: 0x036f }).map((point) => String.fromCodePoint(point)),
  fc.constantFrom("\u200d", "\ufe0f", "\u{1f3fd}", "e", "é"),
);

/** Text of exactly `count` code points, built point by point or cut from a run of whole graphemes. */
function textOfCodePoints(count: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.array(codePoint, { minLength: count, maxLength: count }).map((points) => points.join("")),
    fc
      .string({ unit: "grapheme", minLength: count, maxLength: count })
      .map((text) => Array.from(text).slice(0, count).join("")),
    // Astral only: 2 UTF-16 units each, so the text is twice as long as its count in JavaScript.
    fc
      .array(fc.integer({ min: 0x10000, max: 0x10ffff }), { minLength: count, maxLength: count })
      .map((points) => String.fromCodePoint(...points)),
  );
}

/** Texts that no other rule refuses: not blank, and no blocked term (even disguised). */
function onlyTheLengthMatters(text: string): boolean {
  return text.trim() !== "" && !/gore/i.test(text.normalize("NFKC"));
}

/** The default model's limit, the legacy standard's (negative prompts too). */
const MAX_PROMPT_CHARACTERS = MODELS[OPTIONS.defaultModel as ModelName].promptCharacters.text;

describe(`prompts are limited to ${MAX_PROMPT_CHARACTERS} characters, counted as code points whatever the script`, () => {
  const cases = [
    { field: "prompt", requestWith: (text: string) => ({ prompt: text }) },
    { field: "negativePrompt", requestWith: (text: string) => ({ prompt: "a quiet lake at night", negativePrompt: text }) },
  ] as const;

  for (const { field, requestWith } of cases) {
    it(`accepts any ${field} of exactly ${MAX_PROMPT_CHARACTERS} code points, as it was sent`, () => {
      fc.assert(
        fc.property(textOfCodePoints(MAX_PROMPT_CHARACTERS), (text) => {
          expect(Array.from(text)).toHaveLength(MAX_PROMPT_CHARACTERS);
          fc.pre(onlyTheLengthMatters(text));
          const result = validate(requestWith(text));
          if (!result.ok) expect.fail(`refused: ${result.problems.join("; ")}`);
          expect(result.request[field]).toBe(text);
        }),
        { seed: SEED + 10, numRuns: 40 },
      );
    });

    it(`refuses any ${field} of ${MAX_PROMPT_CHARACTERS + 1} code points, saying the limit and the count`, () => {
      fc.assert(
        fc.property(textOfCodePoints(MAX_PROMPT_CHARACTERS + 1), (text) => {
          fc.pre(onlyTheLengthMatters(text));
          expect(validate(requestWith(text))).toEqual({
            ok: false,
            problems: [`${field} must be at most ${MAX_PROMPT_CHARACTERS} characters${field === "prompt" ? ` for ${OPTIONS.defaultModel}` : ""} (got ${MAX_PROMPT_CHARACTERS + 1})`],
            contentPolicy: false,
          });
        }),
        { seed: SEED + 11, numRuns: 40 },
      );
    });
  }
});
