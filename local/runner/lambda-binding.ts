import type { LambdaHandler } from "./handlers";

/** What Lambda hands Step Functions for a function error: the Cause is this JSON. */
function lambdaFunctionError(error: unknown): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const failure = new Error(
    JSON.stringify({
      errorType: source.name,
      errorMessage: source.message,
      trace: (source.stack ?? "").split("\n"),
    }),
  );
  failure.name = source.name;
  return failure;
}

/**
 * Invokes a handler as the `lambda:invoke` integration does: the state's `Payload` is the
 * event, the result comes back wrapped (`{ Payload, StatusCode, ... }`), and a thrown error
 * reaches Retry/Catch under its `name` with Lambda's JSON Cause.
 */
export async function invokeLikeLambda(handler: LambdaHandler, input: unknown): Promise<unknown> {
  const event = input !== null && typeof input === "object" && "Payload" in input ? input.Payload : input;
  // Lambda passes JSON: the handler never shares objects with the engine's state.
  const payload: unknown = JSON.parse(JSON.stringify(event ?? null));
  let result: unknown;
  try {
    result = await handler(payload);
  } catch (error) {
    throw lambdaFunctionError(error);
  }
  return {
    ExecutedVersion: "$LATEST",
    Payload: result === undefined ? null : JSON.parse(JSON.stringify(result)),
    StatusCode: 200,
  };
}
