/**
 * The Lambdas' Powertools Logger: JSON lines, configured by the POWERTOOLS_* variables the stack
 * sets, each carrying the execution and the state that invoked the function, none quoting a
 * credential.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Logger, type LogItem } from "@aws-lambda-powertools/logger";
import type { ConstructorOptions } from "@aws-lambda-powertools/logger/types";
import type { Context } from "aws-lambda";
import * as z from "zod";
import { LOG_CONTEXT_FIELD, POWERTOOLS_ENV } from "./catalog";
import { redactCredentials } from "../common/redaction";

/** What the state machine puts in each Lambda payload's `logContext`. */
const logContextSchema = z.object({ executionName: z.string().min(1), stateName: z.string().min(1) });
type LogContext = z.infer<typeof logContextSchema>;

/**
 * Locally (POWERTOOLS_DEV) a record is one compact line through console.log, which the local
 * command sends to stderr and the chaos run scans; on Lambda Powertools prints it as always.
 */
class PipelineLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    if (process.env[POWERTOOLS_ENV.devMode] !== "true") {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    console.log(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }

  protected override createLogger(options?: ConstructorOptions): PipelineLogger {
    return new PipelineLogger(options);
  }
}

let rootLogger: Logger | undefined;

/** Made on first use, not at import: the local runner sets the environment after importing the handlers. */
function root(): Logger {
  rootLogger ??= new PipelineLogger({ jsonReplacerFn: redactCredentials });
  return rootLogger;
}

/** One logger per invocation, not keys appended to a shared one: locally many invocations interleave. */
const invocationLogger = new AsyncLocalStorage<Logger>();

/** The logger of the invocation under way (its lines carry the execution and state names). */
export function logger(): Logger {
  return invocationLogger.getStore() ?? root();
}

function logContextOf(event: unknown): LogContext | undefined {
  if (typeof event !== "object" || event === null || !(LOG_CONTEXT_FIELD in event)) return undefined;
  const parsed = logContextSchema.safeParse(event[LOG_CONTEXT_FIELD]);
  return parsed.success ? parsed.data : undefined;
}

/**
 * A Lambda handler whose log lines, and those of everything it calls (the Kling client's), carry
 * the `logContext` of its event; on Lambda also the invocation's request id and cold start.
 */
export function observed<E, R>(handle: (event: E) => Promise<R>): (event: E, context?: Context) => Promise<R> {
  return (event, context) => {
    const parent = root();
    if (context) parent.addContext(context);
    const child = parent.createChild({ persistentKeys: logContextOf(event) ?? {} });
    return invocationLogger.run(child, () => handle(event));
  };
}
