import type * as z from "zod";
import { KlingError } from "../errors";

/** Parses a Lambda event; an event of the wrong shape is a bug in the definition, named clearly. */
export function parseEvent<T>(schema: z.ZodType<T>, event: unknown, handlerName: string): T {
  const result = schema.safeParse(event);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "event"}: ${issue.message}`);
  throw new KlingError("Kling.InvalidRequest", `${handlerName} received an event it cannot read: ${problems.join("; ")}`);
}
