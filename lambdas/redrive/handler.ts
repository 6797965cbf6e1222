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
import { errorKindOf } from "../errors";
import { logger, observed } from "../observability/logger";
import { recordGenerationsLeftFailed } from "../observability/metrics";
import { type FailedExecutions, SfnFailedExecutions } from "./failed-executions";
import { emptyTally, redriveFailedExecutions, type RedriveResult, type RedriveTally, scheduledRedriveDecision } from "./redrive-run";

/**
 * What the schedule's rule sends (lib/scheduled-redrive.ts): how far back executions started,
 * and how many redrives in all an execution may have had for the schedule to redrive it again.
 */
const scheduledRedriveEventSchema = z.object({ lookBackHours: z.number().positive(), maxRedrives: z.number().int().min(0) });

const HOUR_MS = 3_600_000;

/** The run's tally, and how many of its failures are left failed for an operator (the alarm's count). */
export type ScheduledRedriveTally = RedriveTally & { readonly leftFailed: number };

/**
 * A failure the schedule is there for (it passes by itself) that it will not redrive again: its
 * last redrive is spent, or Step Functions refuses one. It stays failed until an operator acts.
 */
function leftFailed({ kind, execution, diagnosis }: RedriveResult, maxRedrives: number): boolean {
  if (!errorKindOf(diagnosis.errorCode)?.passesByItself) return false;
  return kind === "not-redrivable" || (kind === "needs-operator" && execution.redriveCount >= maxRedrives);
}

export async function redriveOnSchedule(
  event: unknown,
  executions: FailedExecutions = new SfnFailedExecutions(new SFNClient({}), generationStateMachineArn(process.env)),
  clock: Clock = wallClock,
): Promise<ScheduledRedriveTally> {
  const { lookBackHours, maxRedrives } = parseEvent(scheduledRedriveEventSchema, event, "ScheduledRedrive");
  const since = new Date(clock.now() - lookBackHours * HOUR_MS);
  const tally = emptyTally();
  let leftFailedCount = 0;
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
    if (leftFailed(result, maxRedrives)) {
      leftFailedCount += 1;
      logger().error("generation still failed after its last scheduled redrive", { execution: execution.name, errorCode: diagnosis.errorCode });
    }
  }
  recordGenerationsLeftFailed(leftFailedCount);
  logger().info("scheduled redrive done", { since: since.toISOString(), ...tally, leftFailed: leftFailedCount });
  return { ...tally, leftFailed: leftFailedCount };
}

export const handler = observed((event) => redriveOnSchedule(event));
