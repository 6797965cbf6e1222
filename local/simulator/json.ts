export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A create body's external_task_id: top-level on the legacy standard, in `options` on the new one; an empty string is none. */
export function externalTaskIdOf(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const id = isRecord(body.options) ? body.options.external_task_id : body.external_task_id;
  return typeof id === "string" && id !== "" ? id : undefined;
}
