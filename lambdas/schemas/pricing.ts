/**
 * What a video costs, in Kling resource-pack units. The one pricing table of the project:
 * CheckCredits prices requests with it and the simulator charges its packs with it.
 *
 * Source: Kling's API documentation ("Account: resource packs"), which publishes per-second
 * prices for Kling 2.5 Turbo and 2.6 (std = 720p, pro = 1080p; 2.6 with native audio).
 * The older models have no published per-second price there: they are priced at the highest
 * documented legacy rate (1.0 unit/s) so the advisory credit check never under-estimates.
 */
import { isModelName, type Mode, type ModelName } from "./models";

interface ModelPrice {
  /** Units per second of video, by mode. */
  readonly perSecond: Readonly<Record<Mode, number>>;
  /** Units per second when native audio (`sound: "on"`) is generated, if the model can. */
  readonly perSecondWithSound?: number;
  /** `published`: Kling's documented price; `estimate`: none is published. */
  readonly source: "published" | "estimate";
}

const UNDOCUMENTED: ModelPrice = { perSecond: { std: 1.0, pro: 1.0 }, source: "estimate" };

/** Keyed by model name: a model added to models.ts without a price here fails type-checking. */
export const PRICING: Readonly<Record<ModelName, ModelPrice>> = {
  "kling-v1": UNDOCUMENTED,
  "kling-v1-5": UNDOCUMENTED,
  "kling-v1-6": UNDOCUMENTED,
  "kling-v2-master": UNDOCUMENTED,
  "kling-v2-1": UNDOCUMENTED,
  "kling-v2-1-master": UNDOCUMENTED,
  "kling-v2-5-turbo": { perSecond: { std: 0.3, pro: 0.5 }, source: "published" },
  "kling-v2-6": { perSecond: { std: 0.3, pro: 0.5 }, perSecondWithSound: 1.0, source: "published" },
};

export interface PricedRequest {
  /** A model name; a string, since the simulator prices whatever a client sends. */
  readonly model: string;
  readonly mode: Mode;
  /** Seconds of video, as Kling writes them ("5" or "10"). */
  readonly duration: string;
  readonly sound?: "on" | "off" | undefined;
}

/** Units the request will cost; throws for a model the table does not know. */
export function priceUnits(request: PricedRequest): number {
  if (!isModelName(request.model)) throw new Error(`no price is known for model ${request.model}`);
  const price = PRICING[request.model];
  const seconds = Number(request.duration);
  const rate =
    request.sound === "on" && price.perSecondWithSound !== undefined ? price.perSecondWithSound : price.perSecond[request.mode];
  // Round to a hundredth of a unit: rates times seconds can land a float hair off (0.3 * 3 is 0.8999999999999999).
  return Math.round(rate * seconds * 100) / 100;
}
