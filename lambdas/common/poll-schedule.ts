import type { PollSchedule } from "./config";

/**
 * Seconds to wait before the next poll: short at first, growing by `factor` up to
 * `maxSeconds`, and never past the deadline. Undefined once the deadline has passed.
 */
export function nextWaitSeconds(schedule: PollSchedule, pollsDone: number, elapsedSeconds: number): number | undefined {
  const remaining = Math.floor(schedule.deadlineSeconds - elapsedSeconds);
  if (remaining < 1) return undefined;
  const grown = Math.round(schedule.initialSeconds * schedule.factor ** pollsDone);
  return Math.max(1, Math.min(grown, schedule.maxSeconds, remaining));
}
