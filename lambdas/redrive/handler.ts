/**
 * The scheduled redrive: every so often, redrives the generations that failed recoverably and
 * need no one (action retry-later: Kling was busy or down, a deadline passed, a generation
 * failed), and logs the rest for an operator (credentials, credits) or as lost for good.
 */
import { SFNClient } from "@aws-sdk/client-sfn";
import * as z from "zod";
import { now } from "../common/clock";
import { generationStateMachineArn } from "../common/config";
import { parseEvent } from "../common/parse-event";
import { logger, observed } from "../observability/logger";
import { SfnFailedExecutions } from "./failed-executions";
import { emptyTally, NEEDS_NO_OPERATOR, redriveFailedExecutions, type RedriveTally } from "./redrive-run";

/** What the schedule's rule sends (lib/scheduled-redrive.ts): how far back executions started. */
const scheduledRedriveEventSchema = z.object({ lookBackHours: z.number().positive() });

const HOUR_MS = 3_600_000;

export async function redriveOnSchedule(event: unknown, client: SFNClient = new SFNClient({})): Promise<RedriveTally> {
  const { lookBackHours } = parseEvent(scheduledRedriveEventSchema, event, "ScheduledRedrive");
  const executions = new SfnFailedExecutions(client, generationStateMachineArn());
  const since = new Date(now() - lookBackHours * HOUR_MS);
  const tally = emptyTally();
  for await (const result of redriveFailedExecutions(executions, { since, dryRun: false, redrives: NEEDS_NO_OPERATOR })) {
    tally[result.kind] += 1;
    const { execution, diagnosis } = result;
    logger().info(`generation ${result.kind}`, {
      execution: execution.name,
      errorCode: diagnosis.errorCode,
      failedState: diagnosis.failedState,
      action: diagnosis.action,
      ...(result.reason === undefined ? {} : { reason: result.reason }),
    });
  }
  logger().info("scheduled redrive done", { since: since.toISOString(), ...tally });
  return tally;
}

export const handler = observed((event) => redriveOnSchedule(event));
