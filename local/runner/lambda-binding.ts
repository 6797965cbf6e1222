import type { LambdaHandler } from "./handlers";
import { LAMBDA_REQUEST_LIMIT_BYTES, LAMBDA_RESPONSE_LIMIT_BYTES, awsError } from "./quotas";

/** An error as Step Functions sees a Lambda's: `name` is the errorType, the Cause is Lambda's JSON. */
export function lambdaError(errorType: string, errorMessage: string, trace: readonly string[] = []): Error {
  const failure = new Error(JSON.stringify({ errorType, errorMessage, trace }));
  failure.name = errorType;
  return failure;
}

function lambdaFunctionError(error: unknown): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  return lambdaError(source.name, source.message, (source.stack ?? "").split("\n"));
}

/** How long a handler may run before it is stopped as Lambda stops it (Sandbox.Timedout). */
export interface FunctionTimeout {
  /** The function's configured timeout. */
  readonly seconds: number;
  /** How long to wait for the handler on this machine. */
  readonly realMs: number;
}

/**
 * Invokes a handler as the `lambda:invoke` integration does: the state's `Payload` is the
 * event, the result comes back wrapped (`{ Payload, StatusCode, ... }`), and a thrown error
 * reaches Retry/Catch under its `name` with Lambda's JSON Cause.
 */
export async function invokeLikeLambda(handler: LambdaHandler, input: unknown, timeout?: FunctionTimeout): Promise<unknown> {
  const event = input !== null && typeof input === "object" && "Payload" in input ? input.Payload : input;
  // Lambda passes JSON: the handler never shares objects with the engine's state.
  const request = JSON.stringify(event ?? null);
  if (Buffer.byteLength(request, "utf8") > LAMBDA_REQUEST_LIMIT_BYTES) {
    throw awsError("Lambda.RequestTooLargeException", `Request must be smaller than ${LAMBDA_REQUEST_LIMIT_BYTES} bytes for the InvokeFunction operation`);
  }
  const payload: unknown = JSON.parse(request);
  let result: unknown;
  let timer: NodeJS.Timeout | undefined;
  try {
    const invocation = handler(payload).catch((error: unknown) => {
      throw lambdaFunctionError(error);
    });
    // Past its timeout Lambda stops the function and reports Sandbox.Timedout; whatever the
    // handler did before that (a task created at Kling) stays done.
    const timedOut = new Promise<never>((_, reject) => {
      if (timeout === undefined) return;
      timer = setTimeout(
        () => reject(lambdaError("Sandbox.Timedout", `Task timed out after ${timeout.seconds.toFixed(2)} seconds`)),
        timeout.realMs,
      );
    });
    invocation.catch(() => undefined); // Once timed out, its own failure goes nowhere, as on Lambda.
    result = await Promise.race([invocation, timedOut]);
  } finally {
    clearTimeout(timer);
  }
  const response = result === undefined ? "null" : JSON.stringify(result);
  if (Buffer.byteLength(response, "utf8") > LAMBDA_RESPONSE_LIMIT_BYTES) {
    // Lambda reports it as the function's own error, which Retry and Catch see.
    throw lambdaError("Function.ResponseSizeTooLarge", `Response payload size exceeded maximum allowed payload size (${LAMBDA_RESPONSE_LIMIT_BYTES} bytes).`);
  }
  return {
    ExecutedVersion: "$LATEST",
    Payload: JSON.parse(response),
    StatusCode: 200,
  };
}
