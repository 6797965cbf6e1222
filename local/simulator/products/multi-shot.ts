/**
 * Multi-shot videos, as Kling's 3.0 pages describe them. On the new standard (kling-3.0 text and
 * image to video, kling-3.0-omni) a prompt of the form "shot n, m, words; shot n, m, words;" makes
 * a multi-shot video while `settings.multi_shot` is true, and it is true when absent. On the
 * legacy standard kling-v3 takes `multi_shot`, `shot_type` and `multi_prompt[]` (updates log
 * 2026-04-23). Either way: 1 to 6 shots numbered from 1, each at least 1 s and its words at most
 * 512 characters, their seconds adding up to the video's duration.
 */

export const MAX_SHOTS = 6;
export const MAX_SHOT_WORDS = 512;

export interface Shot {
  readonly index: number;
  readonly seconds: number;
  readonly words: string;
}

const SHOT_FORM = /^\s*shot\s*\d+\s*,/i;
const SHOT = /^\s*shot\s*(\d+)\s*,\s*(\d+)\s*,\s*(\S[\s\S]*?)\s*$/i;

/** Whether a prompt is written as shots ("shot 1, 2, words; ..."). */
export function isShotPrompt(prompt: string): boolean {
  return SHOT_FORM.test(prompt);
}

/** The shots of a prompt written as shots, or what is wrong with them (the field named). */
export function parseShotPrompt(field: string, prompt: string): Shot[] | string {
  const parts = prompt.split(";").filter((part) => part.trim() !== "");
  const shots: Shot[] = [];
  for (const [position, part] of parts.entries()) {
    const match = SHOT.exec(part);
    if (!match) return `${field}: shot ${position + 1} is not of the form "shot n, m, words" (n its number, m its seconds)`;
    shots.push({ index: Number(match[1]), seconds: Number(match[2]), words: match[3] ?? "" });
  }
  return shots;
}

/** What is wrong with a list of shots for a video of `duration` seconds; undefined when nothing is. */
export function shotsProblem(field: string, shots: readonly Shot[], duration: number): string | undefined {
  if (shots.length < 1 || shots.length > MAX_SHOTS) return `${field} must hold 1 to ${MAX_SHOTS} shots (got ${shots.length})`;
  for (const [position, shot] of shots.entries()) {
    if (shot.index !== position + 1) return `${field}: shot ${position + 1} is numbered ${shot.index} (shots are numbered 1, 2, ... in order)`;
    if (!Number.isInteger(shot.seconds) || shot.seconds < 1) return `${field}: shot ${shot.index} must last a whole number of seconds, at least 1`;
    if (Array.from(shot.words).length > MAX_SHOT_WORDS) return `${field}: shot ${shot.index}'s words must be at most ${MAX_SHOT_WORDS} characters`;
    if (shot.words.trim() === "") return `${field}: shot ${shot.index} has no words`;
  }
  const total = shots.reduce((sum, shot) => sum + shot.seconds, 0);
  if (total !== duration) return `${field}: the shots last ${total} s in all but the video lasts ${duration} s (they must add up to the duration)`;
  return undefined;
}

/** The problem of a new-standard prompt when it is written as shots and multi_shot is on; undefined otherwise. */
export function shotPromptProblem(field: string, prompt: string, multiShot: boolean, duration: number): string | undefined {
  if (!multiShot || !isShotPrompt(prompt)) return undefined;
  const shots = parseShotPrompt(field, prompt);
  return typeof shots === "string" ? shots : shotsProblem(field, shots, duration);
}
