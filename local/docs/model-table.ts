/**
 * The README's model table: every model, its API standard, what it takes and what it costs,
 * written from the one model table (lambdas/schemas/models.ts) and the one pricing table
 * (lambdas/schemas/pricing.ts). `npm run docs` writes it; a test regenerates it so it never drifts.
 */
import { MODEL_NAMES, MODES, MODE_RESOLUTIONS, MODELS, type Duration, type ModelCapabilities, type ModelName } from "#lambdas/schemas/models";
import { PRICING, ratePerSecond } from "#lambdas/schemas/pricing";

const STANDARDS: Readonly<Record<ModelCapabilities["standard"], string>> = {
  legacy: "legacy `/v1/videos/text2video`, `image2video`",
  new: "new `/text-to-video/{model}`, `/image-to-video/{model}` (API key only)",
};

function modesText(capabilities: ModelCapabilities): string {
  const modes = capabilities.modes.map((mode) => `${mode} (${MODE_RESOLUTIONS[mode]})`).join(", ");
  return capabilities.modeParameter ? modes : `${modes}; no mode parameter is sent`;
}

/** "2500", or "3072 (image to video: 2500)" where the two differ. */
function promptText(capabilities: ModelCapabilities): string {
  const { text, image } = capabilities.promptCharacters;
  return text === image || !capabilities.inputs.includes("text") ? String(image) : `${text} (image to video: ${image})`;
}

/** "5, 10" or "3 to 15". */
function durationsText(durations: readonly Duration[]): string {
  const numbers = durations.map(Number);
  const contiguous = numbers.length > 2 && numbers.every((value, index) => index === 0 || value === (numbers[index - 1] ?? 0) + 1);
  return contiguous ? `${numbers[0]} to ${numbers.at(-1)}` : numbers.join(", ");
}

function soundText(capabilities: ModelCapabilities): string {
  if (capabilities.alwaysNativeAudio) return "native audio always (no switch)";
  return capabilities.sound ? `native audio in ${capabilities.sound.modes.join(", ")}` : "none";
}

function lastFrameText(capabilities: ModelCapabilities): string {
  const lastFrame = capabilities.lastFrame;
  if (!lastFrame || !capabilities.inputs.includes("image")) return "no";
  const modes = capabilities.modes.every((mode) => lastFrame.modes.includes(mode)) ? "yes" : `${lastFrame.modes.join(", ")} only`;
  return lastFrame.silentOnly ? `${modes}, silent` : modes;
}

/** "0.3 / 0.5; audio - / 1.0" (and "/ 3.0" at 4K where offered), "-" where no price is known. */
function priceText(model: ModelName): string {
  const modes = MODES.filter((mode) => mode !== "4k" || MODELS[model].modes.includes(mode));
  const rates = (sound: boolean) => modes.map((mode) => ratePerSecond(model, mode, sound)?.toFixed(1) ?? "-").join(" / ");
  return PRICING[model].perSecondWithSound ? `${rates(false)}; with audio ${rates(true)}` : rates(false);
}

export function modelTable(): string {
  const rows = MODEL_NAMES.map((model) => {
    const capabilities = MODELS[model];
    const inputs = capabilities.inputs.map((input) => `${input} to video`).join(", ");
    const extras = [capabilities.negativePrompt ? "negativePrompt" : "", capabilities.cfgScale ? "cfgScale" : "", capabilities.cameraControl ? "cameraControl" : ""]
      .filter((extra) => extra !== "")
      .join(", ");
    return `| \`${model}\` | ${STANDARDS[capabilities.standard]} | ${inputs} | ${modesText(capabilities)} | ${durationsText(capabilities.durations)} | ${soundText(capabilities)} | ${lastFrameText(capabilities)} | ${promptText(capabilities)} | ${extras || "-"} | ${priceText(model)} | ${PRICING[model].source} |`;
  });
  return [
    "| model | API standard | makes | modes | durations (s) | sound | last frame (`imageTail`) | prompt (chars) | also takes | units/s std / pro (/ 4k) | price source |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}
