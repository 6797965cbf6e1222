/**
 * The scheduled redrive: every so often, redrives the generations whose failure passes by itself
 * (Kling busy or down, a deadline passed, a passing AWS fault), each at most a few times, and
 * logs the rest for an operator (credentials, credits, a failed generation) or as lost for good.
 */
import { SFNClient } from "@aws-sdk/client-sfn";
import * as z from "zod";
import { type Clock, wallClock } from "../common/clock";
import { generationStateMachineArn } from "../common/config";
import { parseEvent } from "../common/parse-event";
import { logger, observed } from "../observability/logger";
import { type FailedExecutions, SfnFailedExecutions } from "./failed-executions";
import { emptyTally, redriveFailedExecutions, type RedriveTally, scheduledRedriveDecision } from "./redrive-run";

/**
 * What the schedule's rule sends (lib/scheduled-redrive.ts): how far back executions started,
 * and how many redrives in all an execution may have had for the schedule to redrive it again.
 */
const scheduledRedriveEventSchema = z.object({ lookBackHours: z.number().positive(), maxRedrives: z.number().int().min(0) });

const HOUR_MS = 3_600_000;

export async function redriveOnSchedule(
  event: unknown,
  executions: FailedExecutions = new SfnFailedExecutions(new SFNClient({}), generationStateMachineArn(process.env)),
  clock: Clock = wallClock,
): Promise<RedriveTally> {
  const { lookBackHours, maxRedrives } = parseEvent(scheduledRedriveEventSchema, event, "ScheduledRedrive");
  const since = new Date(clock.now() - lookBackHours * HOUR_MS);
  const tally = emptyTally();
  const policy = { since, dryRun: false, decide: scheduledRedriveDecision(maxRedrives) };
  for await (const result of redriveFailedExecutions(executions, policy)) {
    tally[result.kind] += 1;
    const { execution, diagnosis } = result;
    logger().info(`generation ${result.kind}`, {
      execution: execution.name,
      errorCode: diagnosis.errorCode,
      failedState: diagnosis.failedState,
      action: diagnosis.action,
      redriveCount: execution.redriveCount,
      ...(result.reason === undefined ? {} : { reason: result.reason }),
    });
  }
  logger().info("scheduled redrive done", { since: since.toISOString(), ...tally });
  return tally;
}

export const handler = observed((event) => redriveOnSchedule(event));
