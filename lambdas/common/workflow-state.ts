/**
 * The fields the generation workflow adds to an execution's state, beside the request as sent,
 * when a task fails: the caught `{Error, Cause}` and Diagnose's result. lib/generation-workflow.ts
 * writes them there; Validate, which a redrive may resume with them in its input, sets them aside.
 */
export const WORKFLOW_FAILURE_FIELDS = { failure: "failure", diagnosis: "diagnosis" } as const;
