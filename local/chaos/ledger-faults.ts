/**
 * The chaos run's ledger faults (ChaosPlan.ledgerFaultFor decides which job gets which):
 * - killed-holding-slot: WaitForSlot's function dies once it has taken its slot, before it
 *   answers its token; Lambda reports Runtime.ExitError and the state's retry runs it again.
 * - stopped-holding-slot / timed-out-holding-slot: once the execution holds its slot, and before
 *   Submit runs, it is stopped as StopExecution stops it (ABORTED) or as its TimeoutSeconds
 *   ends it (TIMED_OUT); only the status-change backstop can give the slot back.
 * - lost-release: a release inside the workflow (Poll's, ReleaseSlot's, the callback function's) crashes between its
 *   writes: the slot's write is lost while the queue's and the credits' land, and no waiter is
 *   woken. Once, the state's retry repeats it; on every attempt (`every-attempt`), only the
 *   backstop is left.
 * - killed-requeueing: Kling refused the job's create (1303) and BackToQueue's function dies
 *   between giving the slot back (the limit lowered) and queueing again; the state's retry
 *   runs it again, which finds no slot to give back and queues at the job's first place.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Ledger, RefusedSlotGivenBack, SlotHolder, SlotLimits } from "#lambdas/ledger/ledger";
import type { ExecutionContext } from "../runner/local-engine";
import type { LocalPipeline, LocalPipelineOptions } from "../runner/pipeline";
import type { ChaosLedgerFault, ChaosPlan } from "../simulator";

/** How often a lost release crashes: its first attempt only, or every attempt inside the workflow. */
export type LostReleaseCrashes = "first-attempt" | "every-attempt";

type AroundInvoke = NonNullable<LocalPipelineOptions["aroundInvoke"]>;

/** What a function killed mid-work reports to Step Functions. */
function killed(what: string): Error {
  const error = new Error(`RequestId: chaos Error: Runtime exited with error: signal: killed (${what})`);
  error.name = "Runtime.ExitError";
  return error;
}

const nameOf = (executionArn: string) => executionArn.split(":").at(-1) ?? executionArn;

export class LedgerFaults {
  /** The state whose function is running, for the ledger's calls made inside it (none for the backstop). */
  private readonly state = new AsyncLocalStorage<string>();
  /** Faults applied, by execution name: each applies once (a lost release every attempt when so asked). */
  private readonly applied = new Set<string>();
  private pipeline: LocalPipeline | undefined;

  constructor(
    private readonly plan: ChaosPlan,
    private readonly lostReleaseCrashes: LostReleaseCrashes,
  ) {}

  /** The pipeline whose executions the stop faults stop. */
  attach(pipeline: LocalPipeline): void {
    this.pipeline = pipeline;
  }

  /** Wraps each Lambda invocation: remembers the state for the ledger, and stops executions before Submit. */
  aroundInvoke(inner: AroundInvoke | undefined): AroundInvoke {
    return async (stateName, invoke, execution, environment) => {
      // A stopped execution schedules nothing more: its Submit never runs.
      if (stateName === "Submit" && execution && this.stopBeforeSubmit(execution)) throw new Error(`${execution.name} was stopped before Submit ran`);
      return this.state.run(stateName, () => (inner ? inner(stateName, invoke, execution, environment) : invoke()));
    };
  }

  /** The ledger the functions use, with the faults in its calls. */
  wrap(ledger: Ledger): Ledger {
    const faulty: Pick<Ledger, "takeSlot" | "giveBackSlot" | "giveBackRefusedSlot"> = {
      takeSlot: async (holder: SlotHolder, limit: number, at: number): Promise<boolean> => {
        const taken = await ledger.takeSlot(holder, limit, at);
        if (taken && this.state.getStore() === "WaitForSlot" && this.apply(nameOf(holder.executionArn), "killed-holding-slot")) {
          throw killed("after it took its Kling slot");
        }
        return taken;
      },
      giveBackSlot: async (executionArn: string, acquiredUpTo?: number): Promise<boolean> => {
        const inWorkflow = this.state.getStore() !== undefined;
        if (inWorkflow && this.apply(nameOf(executionArn), "lost-release")) throw killed("between the release's writes");
        return ledger.giveBackSlot(executionArn, acquiredUpTo);
      },
      giveBackRefusedSlot: async (executionArn: string, limits: SlotLimits, at: number): Promise<RefusedSlotGivenBack> => {
        const given = await ledger.giveBackRefusedSlot(executionArn, limits, at);
        if (given.given && this.state.getStore() === "BackToQueue" && this.apply(nameOf(executionArn), "killed-requeueing")) {
          throw killed("between giving its refused slot back and queueing again");
        }
        return given;
      },
    };
    const wrapped: ReadonlySet<string | symbol> = new Set(Object.keys(faulty));
    // Every other call reaches the table's own ledger unchanged, whatever methods the port grows.
    return new Proxy(ledger, {
      get: (target, name, receiver) => (wrapped.has(name) ? faulty[name as keyof typeof faulty] : Reflect.get(target, name, receiver)),
    });
  }

  /** Stops the execution when its fault says so; true when it did. */
  private stopBeforeSubmit(execution: ExecutionContext): boolean {
    if (!this.pipeline) throw new Error("the ledger faults need the pipeline whose executions they stop");
    if (this.apply(execution.name, "stopped-holding-slot")) return this.pipeline.executions.stop(execution.name);
    if (this.apply(execution.name, "timed-out-holding-slot")) return this.pipeline.generation.stop(execution.name, "TIMED_OUT");
    return false;
  }

  /** Whether this execution's fault is `kind` and applies now; counts it when it does. */
  private apply(executionName: string, kind: ChaosLedgerFault): boolean {
    if (this.plan.ledgerFaultFor(executionName) !== kind) return false;
    const again = kind === "lost-release" && this.lostReleaseCrashes === "every-attempt";
    if (this.applied.has(executionName) && !again) return false;
    if (!this.applied.has(executionName)) this.plan.ledgerFaultInjected(kind);
    this.applied.add(executionName);
    return true;
  }
}
