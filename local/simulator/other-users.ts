/**
 * Other users of the same Kling account: the slots of a shared account are not all the
 * pipeline's. Each of their tasks asks for a slot at its start time; if every slot is taken it
 * waits, and takes the first slot that frees (people and scripts retry at once, so they win
 * any gap before the pipeline's next create), then holds it for its generation time. While
 * they hold slots, the pipeline's creates meet 429/1303 as they would on Kling.
 *
 * Slots are decided lazily, like task status: each request first brings the account up to its
 * own time, replaying every moment a slot freed since the last request.
 */

/** A task another user runs: asked for `startSeconds` (simulated) after the simulator started, for `seconds`. */
export interface OtherUsersTask {
  readonly startSeconds: number;
  readonly seconds: number;
}

/** A slot held from `from` until `until` (simulated epoch ms); `until` is Infinity for a task that never ends. */
export interface HeldSlot {
  readonly from: number;
  readonly until: number;
}

interface Waiting {
  readonly askedAt: number;
  readonly ms: number;
}

export class OtherUsers {
  private readonly waiting: Waiting[];
  private readonly held: HeldSlot[] = [];
  private settledUntil: number;

  constructor(tasks: readonly OtherUsersTask[], startedAt: number) {
    for (const task of tasks) {
      if (!(task.startSeconds >= 0) || !(task.seconds > 0)) {
        throw new RangeError(`another user's task needs a start of 0 or more seconds and a positive duration, got ${task.startSeconds} s and ${task.seconds} s`);
      }
    }
    this.waiting = tasks
      .map((task) => ({ askedAt: startedAt + Math.round(task.startSeconds * 1000), ms: Math.round(task.seconds * 1000) }))
      .sort((a, b) => a.askedAt - b.askedAt);
    this.settledUntil = startedAt;
  }

  /** Slots other users hold at `at`. */
  heldAt(at: number): number {
    return countAt(this.held, at);
  }

  /** Every slot they have held so far, in the order they took them. */
  heldSlots(): readonly HeldSlot[] {
    return [...this.held];
  }

  /**
   * Replays every moment up to `at` at which a task asked or a slot freed (the pipeline's or
   * theirs), giving free slots to the waiting tasks in the order they asked.
   */
  advance(at: number, ours: readonly HeldSlot[], slots: number): void {
    let moment = this.settledUntil;
    let looked = false;
    for (let head = this.waiting[0]; head !== undefined; head = this.waiting[0]) {
      // Nobody waits before the first one asks; once someone waits, only a freed slot changes anything.
      if (head.askedAt > moment) moment = head.askedAt;
      else if (looked) moment = Math.min(...[...ours, ...this.held].map((slot) => slot.until).filter((until) => until > moment));
      if (!(moment <= at)) break;
      looked = true;
      while (this.waiting[0] && this.waiting[0].askedAt <= moment && countAt(ours, moment) + countAt(this.held, moment) < slots) {
        const { ms } = this.waiting.shift() as Waiting;
        this.held.push({ from: moment, until: moment + ms });
      }
    }
    this.settledUntil = Math.max(this.settledUntil, at);
  }
}

function countAt(slots: readonly HeldSlot[], at: number): number {
  let count = 0;
  for (const slot of slots) if (slot.from <= at && at < slot.until) count += 1;
  return count;
}
