import type { PollSchedule } from "./config";

/**
 * Seconds to wait before the next poll of a task whose video typically takes `typicalSeconds`:
 * nothing until just before the quickest such videos are done, then short waits that grow
 * with the time already spent (so a slow video costs few polls and a quick one little delay),
 * never past the deadline. Undefined once the deadline has passed.
 */
export function nextWaitSeconds(schedule: PollSchedule, typicalSeconds: number, elapsedSeconds: number): number | undefined {
  const remaining = Math.floor(schedule.deadlineSeconds - elapsedSeconds);
  if (remaining < 1) return undefined;
  const firstPollAt = schedule.firstPollShare * typicalSeconds;
  const wait =
    elapsedSeconds < firstPollAt
      ? Math.max(1, Math.round(firstPollAt - elapsedSeconds))
      : Math.min(schedule.maxSeconds, Math.max(schedule.minSeconds, Math.round(schedule.intervalShare * Math.max(elapsedSeconds, typicalSeconds))));
  return Math.min(wait, remaining);
}
