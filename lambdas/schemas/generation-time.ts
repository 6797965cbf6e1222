/**
 * How long Kling typically takes to make a video, in seconds from create to `succeed` (`succeeded` on the new standard): the
 * one table the poll schedule plans its first poll with.
 *
 * Source: Kling publishes no generation times, for the new models (kling-v3, the 3.0 family) as for
 * the older ones. These are planning figures in the range users
 * of the API report (about a minute for a 5 s Turbo clip in std, several minutes for 10 s
 * in pro on the older models); tune them to what your account sees. A figure that is off
 * costs a few polls or a little detection delay, never a wrong outcome: the schedule keeps
 * polling, with waits that grow with the time already spent, until the deadline.
 */
import type { Duration, Mode, ModelName } from "./models";

/** A 5 s video in std mode, by model (planning figures, see above). */
const FIVE_SECONDS_STD: Readonly<Record<ModelName, number>> = {
  "kling-v1": 120,
  "kling-v1-5": 120,
  "kling-v1-6": 110,
  "kling-v2-master": 150,
  "kling-v2-1": 90,
  "kling-v2-1-master": 150,
  "kling-v2-5-turbo": 60,
  "kling-v2-6": 75,
  // The same models on either standard take the same time; 3.0 renders more than 2.6, its Turbo less.
  "kling-v3": 100,
  "kling-2.5-turbo": 60,
  "kling-2.6": 75,
  "kling-3.0": 100,
  "kling-3.0-turbo": 70,
};

/** pro renders 1080p instead of 720p, 4k 4K (about four times the pixels of 1080p). */
const MODE_FACTORS: Readonly<Record<Mode, number>> = { std: 1, pro: 1.4, "4k": 3 };
/** Each second of video past 5 adds 14% (10 s: 1.7 times a 5 s video; part of the work is per task, not per second). */
const PER_SECOND_PAST_FIVE = 0.14;
/** Native audio (`sound: "on"`) is generated alongside. */
const SOUND_FACTOR = 1.2;

export interface TimedRequest {
  readonly model: ModelName;
  readonly mode: Mode;
  readonly duration: Duration;
  readonly sound?: "on" | "off" | undefined;
}

/** Typical seconds from create to a finished video for this request. */
export function typicalGenerationSeconds(request: TimedRequest): number {
  const seconds =
    FIVE_SECONDS_STD[request.model] *
    MODE_FACTORS[request.mode] *
    (1 + (Number(request.duration) - 5) * PER_SECOND_PAST_FIVE) *
    (request.sound === "on" ? SOUND_FACTOR : 1);
  return Math.round(seconds);
}
