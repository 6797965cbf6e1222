/**
 * The failed executions of a state machine as a redrive needs them, and the
 * redrive itself: a port, and its adapter on the Step Functions API.
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import { parseExecutionJson } from "../diagnose/diagnosis";

/**
 * The statuses RedriveExecution restarts (AWS: a Standard execution that failed, timed out or
 * was aborted, within 14 days of stopping, under the history's event limit; DescribeExecution's
 * redriveStatus says whether one still is, and why not).
 */
const REDRIVEN_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"] as const;
type RedrivenStatus = (typeof REDRIVEN_STATUSES)[number];

export interface FailedExecution {
  readonly name: string;
  readonly arn: string;
  readonly status: RedrivenStatus;
  readonly startDate: Date;
  readonly error: string | undefined;
  readonly cause: string | undefined;
  /** How many times it was redriven (DescribeExecution's redriveCount: successful redrives only). */
  readonly redriveCount: number;
  /** Why Step Functions would refuse a redrive (DescribeExecution's redriveStatusReason); undefined when it would not. */
  readonly notRedrivableReason: string | undefined;
}

export type RedriveOutcome = { readonly kind: "redriven" } | { readonly kind: "not-redrivable"; readonly reason: string };

export interface FailedExecutions {
  /** The executions in these statuses started at or after `since`, newest first. */
  list(since: Date): AsyncIterable<FailedExecution>;
  redrive(executionArn: string): Promise<RedriveOutcome>;
  /** The request as Validate handed it on (its output in the execution's history); undefined when Validate never succeeded. */
  validatedRequest(executionArn: string): Promise<unknown>;
}

/** The state that validates the request; its output is `{jobId, request, kind}` (lib/generation-workflow.ts). */
const VALIDATE_STATE = "Validate";

const PAGE_SIZE = 100;

export class SfnFailedExecutions implements FailedExecutions {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async *list(since: Date): AsyncIterable<FailedExecution> {
    for (const status of REDRIVEN_STATUSES) yield* this.listInStatus(status, since);
  }

  async redrive(executionArn: string): Promise<RedriveOutcome> {
    try {
      await this.client.send(new RedriveExecutionCommand({ executionArn }));
      return { kind: "redriven" };
    } catch (error) {
      if (error instanceof Error && error.name === "ExecutionNotRedrivable") return { kind: "not-redrivable", reason: error.message };
      throw error;
    }
  }

  async validatedRequest(executionArn: string): Promise<unknown> {
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: PAGE_SIZE, nextToken }));
      for (const event of page.events ?? []) {
        const exited = event.type === "TaskStateExited" ? event.stateExitedEventDetails : undefined;
        if (exited?.name !== VALIDATE_STATE) continue;
        const output = parseExecutionJson(exited.output);
        return output !== null && typeof output === "object" && "request" in output ? output.request : undefined;
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return undefined;
  }

  private async *listInStatus(status: RedrivenStatus, since: Date): AsyncIterable<FailedExecution> {
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListExecutionsCommand({ stateMachineArn: this.stateMachineArn, statusFilter: status, maxResults: PAGE_SIZE, nextToken }),
      );
      for (const item of page.executions ?? []) {
        const { executionArn, startDate } = item;
        if (!executionArn || !startDate) throw new Error("ListExecutions answered an execution without its ARN or start date");
        // Newest first: once one started before `since`, so did every one after it.
        if (startDate < since) return;
        yield await this.describe(executionArn, status);
      }
      nextToken = page.nextToken;
    } while (nextToken);
  }

  private async describe(executionArn: string, status: RedrivenStatus): Promise<FailedExecution> {
    const described = await this.client.send(new DescribeExecutionCommand({ executionArn }));
    return {
      name: described.name ?? executionArn.split(":").at(-1) ?? executionArn,
      arn: executionArn,
      status,
      startDate: described.startDate ?? new Date(0),
      error: described.error,
      cause: described.cause,
      redriveCount: described.redriveCount ?? 0,
      notRedrivableReason:
        described.redriveStatus === "NOT_REDRIVABLE" ? (described.redriveStatusReason ?? "Step Functions gives no reason") : undefined,
    };
  }
}

