/**
 * A value read from somewhere slow (a Secrets Manager secret), kept for a while per container:
 * read again once `maxAgeMs` passed, or after `forget`, so a rotated value takes effect in warm
 * containers; a failed read is not kept, so the next call tries again.
 */
import type { Clock } from "./clock";

export interface CachedRead<T> {
  get(): Promise<T>;
  forget(): void;
}

export function cachedRead<T>(read: () => Promise<T>, clock: Clock, maxAgeMs: number): CachedRead<T> {
  let cached: { readonly value: Promise<T>; readonly readAtMs: number } | undefined;
  return {
    get() {
      if (cached && clock.now() - cached.readAtMs < maxAgeMs) return cached.value;
      const reading = { value: read(), readAtMs: clock.now() };
      cached = reading;
      reading.value.catch(() => {
        if (cached === reading) cached = undefined;
      });
      return reading.value;
    },
    forget() {
      cached = undefined;
    },
  };
}
