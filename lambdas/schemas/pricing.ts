/**
 * What a video costs, in Kling resource-pack units: the one pricing table of the project.
 * CheckCredits prices requests with it and the README's model table shows it; the simulator charges
 * by its own copy of Kling's prices (local/simulator/kling-tables.ts), so a wrong figure here shows.
 * Each row says where its figures come from.
 *
 * Source: Kling's API documentation "Prices" (units per second of video, std = 720p, pro = 1080p).
 * A price that is not known is not guessed: `priceUnits` refuses it, so the advisory credit
 * check can never let through a job the packs cannot pay for on a low guess. Validation refuses
 * every combination without a price before CheckCredits runs (a test holds the two together).
 */
import { isModelName, type Mode, type ModelName } from "./models";

const KLING_PRICE_PAGE = "Kling's price page (document-api pricing/base/video)";
const THIRD_PARTY = "third-party (cluely/unmodel pricing table)";

interface ModelPrice {
  /** Units per second of silent video, by mode; a mode missing has no known price. */
  readonly perSecond: Readonly<Partial<Record<Mode, number>>>;
  /** Units per second with native audio (`sound: "on"`), by mode, for a model that makes it. */
  readonly perSecondWithSound?: Readonly<Partial<Record<Mode, number>>>;
  readonly source: string;
}

/** 2.5 Turbo: 0.3 / 0.5. */
const TURBO_2_5: ModelPrice = { perSecond: { std: 0.3, pro: 0.5 }, source: KLING_PRICE_PAGE };
/** 2.6: silent 0.3 / 0.5; native audio 1.0, 1080p only (with a custom voice 1.2: the pipeline sends no voice). */
const V2_6: ModelPrice = { perSecond: { std: 0.3, pro: 0.5 }, perSecondWithSound: { pro: 1.0 }, source: KLING_PRICE_PAGE };
/** 3.0 (legacy kling-v3 and new kling-3.0): silent 0.6 / 0.8, with audio 0.9 / 1.2; 4K 3.0 either way. */
const V3: ModelPrice = { perSecond: { std: 0.6, pro: 0.8, "4k": 3.0 }, perSecondWithSound: { std: 0.9, pro: 1.2, "4k": 3.0 }, source: KLING_PRICE_PAGE };
const V1_X: ModelPrice = { perSecond: { std: 0.4, pro: 0.7 }, source: THIRD_PARTY };
/** The master models: 1080p only. */
const MASTER: ModelPrice = { perSecond: { pro: 2.0 }, source: `${THIRD_PARTY}; 1080p only` };

/** Keyed by model name: a model added to models.ts without a price here fails type-checking. */
export const PRICING: Readonly<Record<ModelName, ModelPrice>> = {
  "kling-v1": { perSecond: { std: 0.2, pro: 0.7 }, source: THIRD_PARTY },
  "kling-v1-5": V1_X,
  "kling-v1-6": V1_X,
  "kling-v2-master": MASTER,
  "kling-v2-1": V1_X,
  "kling-v2-1-master": MASTER,
  "kling-v2-5-turbo": TURBO_2_5,
  "kling-v2-6": V2_6,
  "kling-v3": V3,
  "kling-2.5-turbo": TURBO_2_5,
  "kling-2.6": V2_6,
  "kling-3.0": V3,
  // Always with native audio (the price page's row: "With Native Audio"); it has no silent price and no switch.
  "kling-3.0-turbo": { perSecond: { std: 0.8, pro: 1.0 }, source: KLING_PRICE_PAGE },
};

export interface PricedRequest {
  /** A model name; a string, since a name without a price is refused here (priceUnits), not by the type. */
  readonly model: string;
  readonly mode: Mode;
  /** Seconds of video, as Kling's legacy API writes them ("3" to "15"). */
  readonly duration: string;
  readonly sound?: "on" | "off" | undefined;
}

/** The units per second of a model in a mode, with or without native audio; undefined when no price is known. */
export function ratePerSecond(model: ModelName, mode: Mode, sound: boolean): number | undefined {
  const price = PRICING[model];
  return (sound ? price.perSecondWithSound : price.perSecond)?.[mode];
}

/** Units the request will cost; throws for a model, mode or audio the table has no price for (it never guesses low). */
export function priceUnits(request: PricedRequest): number {
  if (!isModelName(request.model)) throw new Error(`no price is known for model ${request.model}`);
  const sound = request.sound === "on";
  const rate = ratePerSecond(request.model, request.mode, sound);
  if (rate === undefined) {
    throw new Error(
      `no price is known for ${request.model} in ${request.mode} mode${sound ? " with native audio" : ""}; refusing to guess (a low guess could let through a video the packs cannot pay for)`,
    );
  }
  // Round to a hundredth of a unit: rates times seconds can land a float hair off (0.3 * 3 is 0.8999999999999999).
  return Math.round(rate * Number(request.duration) * 100) / 100;
}

/** Units added up to the hundredth, as Kling counts them. */
export const sumUnits = (values: readonly number[]): number => Math.round(values.reduce((total, value) => total + value, 0) * 100) / 100;
