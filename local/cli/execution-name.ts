/** A fresh execution name that says where the run came from: `local-20261124-165229-yks7`, `local-batch-…`. */
export function localExecutionName(prefix: "local" | "local-batch" = "local"): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${prefix}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
