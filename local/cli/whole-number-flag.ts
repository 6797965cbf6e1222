/**
 * A command-line flag that holds a whole number within [min, max]: `fallback` when absent,
 * else the number, else the error `usageError` makes from a message that names the flag.
 */
export function wholeNumberFlag(
  text: string | undefined,
  flag: string,
  bounds: { readonly fallback: number; readonly min: number; readonly max: number },
  usageError: (message: string) => Error,
): number {
  if (text === undefined) return bounds.fallback;
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
    throw usageError(`${flag} must be a whole number from ${bounds.min} to ${bounds.max}, got "${text}"`);
  }
  return value;
}
