/**
 * Validate: the first state. Checks the request against the schema, the model's capabilities
 * and the blocked terms, reporting every problem at once, and hands the normalized request on.
 */
import * as z from "zod";
import { parseEvent } from "../common/parse-event";
import { observed } from "../observability/logger";
import { KlingError } from "../errors";
import type { KlingTaskKind } from "../kling/port";
import { taskKind, validateGenerationRequest, type GenerationRequest } from "../schemas/validation";
import { readValidateConfig } from "./config";

const validateEventSchema = z.object({
  jobId: z.string().min(1),
  /** As the person sent it: validating it is this handler's job. */
  request: z.unknown(),
});

export interface ValidateResult {
  readonly jobId: string;
  readonly request: GenerationRequest;
  readonly kind: KlingTaskKind;
}

async function validate(event: unknown): Promise<ValidateResult> {
  const { jobId, request } = parseEvent(validateEventSchema, event, "Validate");
  // Read per invocation (a few microseconds) so a process that hosts several pipelines, as the
  // local runner does, always validates with the configuration it runs.
  const result = validateGenerationRequest(request, readValidateConfig(process.env));
  if (!result.ok) {
    throw new KlingError(result.contentPolicy ? "Kling.ContentPolicy" : "Kling.InvalidRequest", result.problems.join("; "));
  }
  return { jobId, request: result.request, kind: taskKind(result.request) };
}

export const handler = observed(validate);
