/**
 * The effective limit: how many Kling slots the ledger grants, learnt from Kling's answers the
 * way TCP and Netflix's concurrency-limits adapt (AIMD). `klingConcurrency` is the ceiling, a
 * guess at what the account allows; others using the same account take slots too. A 1303 says
 * the account is full at what the pipeline holds: the limit drops to that (never below 1). A
 * quiet period later, the head of the queue may take one slot past the limit: the probe. If
 * Kling takes the task, the limit has climbed by one; if it answers 1303, it drops again.
 */

/** The slot state the limit is decided from, as the ledger's slots item holds it. */
export interface AdmissionState {
  /** Slots granted beyond none; undefined while no 1303 has been seen: the ceiling applies. */
  readonly limit: number | undefined;
  /** Epoch ms of the last change of the limit (a drop or a probe); the quiet period runs from it. */
  readonly changedAt: number | undefined;
}

/** The limit grants respect now: the learnt one, never above the ceiling (which a deploy may lower). */
export function effectiveLimit(state: AdmissionState, ceiling: number): number {
  return Math.min(ceiling, state.limit ?? ceiling);
}

/**
 * The limit after Kling refused a create for concurrency while the pipeline, the refused
 * generation's slot given back, holds `heldAfter`: what it holds is all the account lets it run.
 * Never below 1, and never above what it was (two refusals at once both count).
 */
export function loweredLimit(state: AdmissionState, ceiling: number, heldAfter: number): number {
  return Math.max(1, Math.min(effectiveLimit(state, ceiling), heldAfter));
}

/**
 * The limit after a probe, if one is due at `at`: one more than now (additive increase), once
 * the limit has been quiet for `quietMs` and is below the ceiling; undefined when none is due.
 */
export function probedLimit(state: AdmissionState, ceiling: number, quietMs: number, at: number): number | undefined {
  const limit = effectiveLimit(state, ceiling);
  if (limit >= ceiling) return undefined;
  if (state.changedAt !== undefined && at - state.changedAt < quietMs) return undefined;
  return limit + 1;
}

/** What a 1303 leaves in the slots item: the lowered limit, and when grants may resume. */
export interface Refusal {
  readonly limit: number;
  /** When the quiet period before the next probe starts: the refusal, or the pause's end (the one slot granted then is the first probe). */
  readonly changedAt: number;
  /**
   * Set when the pipeline, the refused slot given back, holds nothing: none of its own tasks
   * will end to say when Kling has room, so the one slot of the floor waits the quiet period
   * (else the refused generation would be granted and refused again at once, in a loop).
   */
  readonly grantsResumeAt: number | undefined;
}

/** The slots item after Kling refused a create for concurrency at `at` (see {@link loweredLimit}). */
export function afterRefusal(state: AdmissionState, ceiling: number, heldAfter: number, quietMs: number, at: number): Refusal {
  const grantsResumeAt = heldAfter === 0 ? at + quietMs : undefined;
  return { limit: loweredLimit(state, ceiling, heldAfter), changedAt: grantsResumeAt ?? at, grantsResumeAt };
}
