/**
 * The chaos run's "nothing resumed twice", counted from what really happened rather than from
 * what the functions say: every task token WaitForVideo waits on, as the local task responses
 * issue it and take or refuse its answers (LocalTaskResponses.observe), and every entry into
 * WaitForVideo, as the engine invokes it. Each token is labelled with the execution whose
 * WaitForVideo it was issued to, and each answer with the callback invocation that gave it, if
 * a callback did, by the invocation running at that moment (AsyncLocalStorage).
 *
 * Per job, the check wants: no WaitForVideo token answered again after its answer (the local
 * task responses, as Step Functions, accept one answer and refuse the next: a second resume
 * turned away), and at most one callback invocation that acted on the task's end (answered its
 * wait). An answer refused for a token nobody answered
 * before is a late one (the wait timed out and Poll took over): counted, not a fault.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { KLING_CALLBACK_STATE, type LocalPipelineOptions } from "../runner/pipeline";
import type { TaskTokenEvent } from "../runner/task-token-binding";

type AroundInvoke = NonNullable<LocalPipelineOptions["aroundInvoke"]>;

/** The state whose Task waits on the Kling task's end. */
const WAIT_FOR_VIDEO = "WaitForVideo";

/** The invocation running: its state, its execution (none for the callback function) and its number. */
interface Invocation {
  readonly stateName: string;
  readonly executionName: string | undefined;
  readonly number: number;
}

/** One WaitForVideo token and the answers it got. */
interface WaitToken {
  readonly executionName: string;
  accepted: number;
  /** Answers refused after the token's answer had been accepted: resumes turned away. */
  refusedAfterAnswer: number;
}

/** Per job, what happened to its WaitForVideo. */
interface JobWaits {
  entries: number;
  /** Accepted answers to its WaitForVideo tokens. */
  resumes: number;
  /** Tokens answered more than once (accepted, or refused after an accepted answer). */
  tokensAnsweredTwice: number;
  /** The callback invocations that answered (or tried to answer) its wait. */
  readonly callbacksActing: Set<number>;
}

/** What the report shows of the count, beside the findings. */
export interface ResumeCounts {
  /** Entries into WaitForVideo, over every job. */
  readonly waits: number;
  /** Accepted answers to WaitForVideo tokens. */
  readonly resumes: number;
  /** Of those, the answers a callback gave. */
  readonly resumedByCallback: number;
  /** Answers refused for a token whose wait had ended unanswered (timed out): late. */
  readonly lateAnswersRefused: number;
}

export class ResumeCount {
  private readonly running = new AsyncLocalStorage<Invocation>();
  private readonly tokens = new Map<string, WaitToken>();
  private readonly jobs = new Map<string, JobWaits>();
  private invocations = 0;
  private resumedByCallback = 0;
  private lateAnswersRefused = 0;

  /** Wraps each Lambda invocation: labels what it does with its state and execution, and counts entries into WaitForVideo. */
  aroundInvoke(inner: AroundInvoke | undefined): AroundInvoke {
    return (stateName, invoke, execution, environment) => {
      if (stateName === WAIT_FOR_VIDEO && execution) this.job(execution.name).entries += 1;
      const invocation: Invocation = { stateName, executionName: execution?.name, number: (this.invocations += 1) };
      return this.running.run(invocation, () => (inner ? inner(stateName, invoke, execution, environment) : invoke()));
    };
  }

  /** What the local task responses report, as they report it (LocalTaskResponses.observe). */
  readonly onTokenEvent = (event: TaskTokenEvent): void => {
    const invocation = this.running.getStore();
    if (event.type === "issued") {
      if (invocation?.stateName === WAIT_FOR_VIDEO && invocation.executionName !== undefined) {
        this.tokens.set(event.taskToken, { executionName: invocation.executionName, accepted: 0, refusedAfterAnswer: 0 });
      }
      return;
    }
    const token = this.tokens.get(event.taskToken);
    if (!token) return;
    const job = this.job(token.executionName);
    if (invocation?.stateName === KLING_CALLBACK_STATE) job.callbacksActing.add(invocation.number);
    if (event.type === "answered") {
      token.accepted += 1;
      job.resumes += 1;
      if (invocation?.stateName === KLING_CALLBACK_STATE) this.resumedByCallback += 1;
    } else if (token.accepted > 0) {
      // A token is accepted once (the local task responses, as Step Functions, refuse the next
      // answer): what shows a second resume is an answer tried after the first.
      token.refusedAfterAnswer += 1;
      if (token.refusedAfterAnswer === 1) job.tokensAnsweredTwice += 1;
    } else {
      this.lateAnswersRefused += 1;
    }
  };

  counts(): ResumeCounts {
    let waits = 0;
    let resumes = 0;
    for (const job of this.jobs.values()) {
      waits += job.entries;
      resumes += job.resumes;
    }
    return { waits, resumes, resumedByCallback: this.resumedByCallback, lateAnswersRefused: this.lateAnswersRefused };
  }

  /** One line per job resumed twice, naming what happened; none when every wait was answered at most once. */
  resumedTwice(): string[] {
    const lines: string[] = [];
    for (const [name, job] of [...this.jobs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const problems: string[] = [];
      if (job.tokensAnsweredTwice > 0) problems.push(`${job.tokensAnsweredTwice} WaitForVideo tokens answered again after their answer`);
      if (job.callbacksActing.size > 1) problems.push(`${job.callbacksActing.size} callbacks acted on its task's end`);
      if (problems.length > 0) lines.push(`${name}: ${problems.join(", ")}`);
    }
    return lines;
  }

  private job(executionName: string): JobWaits {
    let job = this.jobs.get(executionName);
    if (!job) {
      job = { entries: 0, resumes: 0, tokensAnsweredTwice: 0, callbacksActing: new Set() };
      this.jobs.set(executionName, job);
    }
    return job;
  }
}
