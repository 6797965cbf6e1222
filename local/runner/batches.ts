import { MAX_BATCH_ITEMS } from "#lambdas/batch/batch";

/** Many jobs as batches of at most `size` items (1 to MAX_BATCH_ITEMS), in order: what the fault run and the benchmark send. */
export function inBatches<T>(items: readonly T[], size: number = MAX_BATCH_ITEMS): T[][] {
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_ITEMS) {
    throw new RangeError(`batchSize must be from 1 to ${MAX_BATCH_ITEMS}, got ${size}`);
  }
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}
