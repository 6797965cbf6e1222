/**
 * The failed executions of a state machine as a redrive needs them, and the
 * redrive itself: a port, and its adapter on the Step Functions API.
 */
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  type SFNClient,
} from "@aws-sdk/client-sfn";

/** The statuses a redrive can restart (ABORTED executions were stopped on purpose). */
const REDRIVEN_STATUSES = ["FAILED", "TIMED_OUT"] as const;
type RedrivenStatus = (typeof REDRIVEN_STATUSES)[number];

export interface FailedExecution {
  readonly name: string;
  readonly arn: string;
  readonly status: RedrivenStatus;
  readonly startDate: Date;
  readonly error: string | undefined;
  readonly cause: string | undefined;
  /** Why Step Functions would refuse a redrive (DescribeExecution's redriveStatusReason); undefined when it would not. */
  readonly notRedrivableReason: string | undefined;
}

type RedriveOutcome = { readonly kind: "redriven" } | { readonly kind: "not-redrivable"; readonly reason: string };

export interface FailedExecutions {
  /** The executions in these statuses started at or after `since`, newest first. */
  list(since: Date): AsyncIterable<FailedExecution>;
  redrive(executionArn: string): Promise<RedriveOutcome>;
}

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
      notRedrivableReason:
        described.redriveStatus === "NOT_REDRIVABLE" ? (described.redriveStatusReason ?? "Step Functions gives no reason") : undefined,
    };
  }
}
