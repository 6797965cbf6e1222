/**
 * What the account's online resource packs hold, as Kling's `GET /account/costs` says: what
 * CheckCredits and PriceBatch count on, less what the ledger's reservations hold.
 */
import { now } from "./clock";
import { creditCacheSeconds } from "./config";
import type { KlingApi } from "../kling/port";
import type { ResourcePack } from "../kling/wire";

/** Packs bought up to this long ago can still be online (constant_period packs run for a year). */
const PACK_LOOKBACK_MS = 400 * 24 * 3600 * 1000;

let cached: { kling: KlingApi; units: number; fetchedAt: number } | undefined;

function availableUnits(packs: readonly ResourcePack[]): number {
  return packs.filter((pack) => pack.status === "online").reduce((sum, pack) => sum + pack.remaining_quantity, 0);
}

/**
 * The account endpoint wants at most one call a second and its figure lags up to 12 hours,
 * so a container reuses a recent answer for a while.
 */
export async function onlineUnits(kling: KlingApi): Promise<number> {
  const at = now();
  const maxAgeMs = creditCacheSeconds() * 1000;
  if (cached && cached.kling === kling && at - cached.fetchedAt < maxAgeMs) return cached.units;
  const packs = await kling.getResourcePacks({ startTime: at - PACK_LOOKBACK_MS, endTime: at });
  cached = { kling, units: availableUnits(packs), fetchedAt: at };
  return cached.units;
}
