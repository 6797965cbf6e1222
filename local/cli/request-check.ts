/**
 * The request checked before anything starts, by the same rules as the Validate state and
 * with the pipeline's own defaults, in the words of the flags the person typed
 * (`--aspect-ratio`, not `aspectRatio`): a mistake there is a usage mistake, exit 2.
 */
import { validateGenerationRequest } from "#lambdas/schemas/validation";
import { pipelineConfigSchema } from "#lib/pipeline-config";

/** The request fields the command line sets, and how the person wrote them. */
export const REQUEST_FLAGS = {
  product: "--product",
  model: "--model",
  duration: "--duration",
  aspectRatio: "--aspect-ratio",
  mode: "--mode",
  negativePrompt: "--negative-prompt",
  image: "--image",
  prompt: "the prompt",
} as const;
export type RequestField = keyof typeof REQUEST_FLAGS;

/** A problem names its field first; camelCase names are flags wherever they appear. */
function inFlagWords(problem: string): string {
  const leading = /^(product|model|duration|aspectRatio|mode|negativePrompt|image|prompt)(?![\w-])/;
  return problem
    .replace(leading, (field: string) => REQUEST_FLAGS[field as RequestField])
    .replace(/\b(aspectRatio|negativePrompt)\b/g, (field: string) => REQUEST_FLAGS[field as RequestField])
    .replace(/\bset model to\b/, "set --model to")
    .replace(/\bset product to\b/, "set --product to");
}

/**
 * The request as Validate will take it (its model: the request's own or the configured
 * default), or every problem in one line.
 */
export function checkRequest(request: Readonly<Partial<Record<RequestField, string>>>): { readonly model: string } | { readonly problem: string } {
  const { defaultModel, blockedTerms } = pipelineConfigSchema.parse({});
  const result = validateGenerationRequest(request, { defaultModel, blockedTerms });
  return result.ok ? { model: result.request.model } : { problem: result.problems.map(inFlagWords).join("; ") };
}
