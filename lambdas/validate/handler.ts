/**
 * Validate: the first state. Checks the request against the schema, the model's capabilities
 * and the blocked terms, reporting every problem at once, and hands the normalized request on.
 */
import * as z from "zod";
import { parseEvent } from "../common/parse-event";
import { WORKFLOW_FAILURE_FIELDS } from "../common/workflow-state";
import { observed } from "../observability/logger";
import { STARTED_BY_KEY } from "../batch/batch";
import { KlingError } from "../errors";
import type { KlingTaskKind } from "../kling/port";
import { taskKind, validateGenerationRequest, type GenerationRequest } from "../schemas/validation";
import { type HandlerPorts, settingsFrom } from "../common/ports";

const validateEventSchema = z.object({
  jobId: z.string().min(1),
  /** As the person sent it: validating it is this handler's job. */
  request: z.unknown(),
  /** `$$.Execution.RedriveCount`; absent when invoked outside Step Functions (a first attempt). */
  redriveCount: z.number().int().min(0).default(0),
});

/**
 * What is set aside before the request is validated. A generation a batch started carries the
 * batch's execution id beside the request (see STARTED_BY_KEY). A redrive resumes Validate with
 * the state the failure left: the request with the workflow's record of that failure beside it,
 * which is not the request's. On a first attempt only the former is set aside, so a request that
 * carries a failure field is refused by name.
 */
const SET_ASIDE: ReadonlySet<string> = new Set([STARTED_BY_KEY]);
const SET_ASIDE_ON_REDRIVE: ReadonlySet<string> = new Set([STARTED_BY_KEY, ...Object.values(WORKFLOW_FAILURE_FIELDS)]);

/** The request as sent: the state without the fields set aside; anything but an object as it is (the schema refuses it). */
function requestAsSent(state: unknown, redriveCount: number): unknown {
  if (state === null || typeof state !== "object" || Array.isArray(state)) return state;
  const setAside = redriveCount === 0 ? SET_ASIDE : SET_ASIDE_ON_REDRIVE;
  return Object.fromEntries(Object.entries(state).filter(([field]) => !setAside.has(field)));
}

interface ValidateResult {
  readonly jobId: string;
  readonly request: GenerationRequest;
  readonly kind: KlingTaskKind;
}

export function validateHandler({ settings }: Pick<HandlerPorts, "settings">) {
  return observed(async (event: unknown): Promise<ValidateResult> => {
    const { jobId, request, redriveCount } = parseEvent(validateEventSchema, event, "Validate");
    const result = validateGenerationRequest(requestAsSent(request, redriveCount), settings.validate());
    if (!result.ok) {
      throw new KlingError(result.contentPolicy ? "Kling.ContentPolicy" : "Kling.InvalidRequest", result.problems.join("; "));
    }
    return { jobId, request: result.request, kind: taskKind(result.request) };
  });
}

export const handler = validateHandler({ settings: settingsFrom(process.env) });
