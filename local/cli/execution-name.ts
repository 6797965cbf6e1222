/** `20261124-165229`: a moment, to the second, as names and ids carry it. */
export function timeStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** A fresh execution name that says where the run came from: `local-20261124-165229-yks7`, `local-batch-…`. */
export function localExecutionName(prefix: "local" | "local-batch" = "local"): string {
  return `${prefix}-${timeStamp(new Date())}-${Math.random().toString(36).slice(2, 6)}`;
}
