/**
 * What the account's online resource packs hold, as Kling's `GET /account/costs` says: what
 * CheckCredits and PriceBatch count on, less what the ledger's reservations hold.
 */
import type { KlingAccount } from "../kling/port";
import type { ResourcePack } from "../kling/wire";
import type { HandlerPorts } from "./ports";

/** Packs bought up to this long ago can still be online (constant_period packs run for a year). */
const PACK_LOOKBACK_MS = 400 * 24 * 3600 * 1000;

function availableUnits(packs: readonly ResourcePack[]): number {
  return packs.filter((pack) => pack.status === "online").reduce((sum, pack) => sum + pack.remaining_quantity, 0);
}

/**
 * The account endpoint wants at most one call a second and its figure lags up to 12 hours,
 * so a container reuses a recent answer (for the same client) for a while.
 */
export function cachedOnlineUnits({ kling, clock, settings }: Pick<HandlerPorts, "clock" | "settings"> & { readonly kling: () => Promise<KlingAccount> }): () => Promise<number> {
  let cached: { kling: KlingAccount; units: number; fetchedAt: number } | undefined;
  return async () => {
    const client = await kling();
    const at = clock.now();
    const maxAgeMs = settings.creditCacheSeconds() * 1000;
    if (cached && cached.kling === client && at - cached.fetchedAt < maxAgeMs) return cached.units;
    const packs = await client.getResourcePacks({ startTime: at - PACK_LOOKBACK_MS, endTime: at });
    cached = { kling: client, units: availableUnits(packs), fetchedAt: at };
    return cached.units;
  };
}
