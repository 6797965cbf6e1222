/**
 * The ledger's reconciliation: a rule that runs ReconcileLedger every `everyMinutes`, which
 * frees what ended executions still hold in the account ledger when their release and the
 * status-change backstop were both lost (lambdas/reconcile-ledger/). It may describe the
 * generation state machine's executions only, and hand freed slots to the next waiters.
 */
import { Duration } from "aws-cdk-lib";
import { Rule, RuleTargetInput, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { ENV } from "../lambdas/common/settings";
import type { ReconcileEvent } from "../lambdas/reconcile-ledger/handler";
import type { AccountLedger } from "./account-ledger";
import type { PipelineConfig } from "./pipeline-config";
import { PipelineFunction, type PipelineLogging } from "./pipeline-function";

interface LedgerReconciliationProps {
  readonly generation: StateMachine;
  readonly ledger: AccountLedger;
  readonly schedule: PipelineConfig["ledgerReconciliation"];
  readonly logging: PipelineLogging;
}

export class LedgerReconciliation extends Construct {
  readonly reconcileFunction: PipelineFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: LedgerReconciliationProps) {
    super(scope, id);
    const { generation, ledger, schedule } = props;
    this.reconcileFunction = new PipelineFunction(this, "ReconcileLedger", {
      name: "reconcile-ledger",
      description: "Frees the Kling slots, queue places and credit reservations of ended generations whose releases were all lost",
      environment: { ...ledger.environment, [ENV.generationStateMachineArn]: generation.stateMachineArn },
      // One DescribeExecution after another, at most maxExecutionsPerRun, and a release for each ended one.
      timeout: Duration.minutes(5),
      logging: props.logging,
    });
    ledger.grantSlotHandOver(this.reconcileFunction);
    // arn:<partition>:states:<region>:<account>:execution:<state machine name>:* (the Service Authorization Reference's execution resource).
    generation.grantExecution(this.reconcileFunction, "states:DescribeExecution");
    const event: ReconcileEvent = { maxExecutions: schedule.maxExecutionsPerRun };
    this.rule = new Rule(this, "Schedule", {
      description: "Runs the account ledger's reconciliation: frees what ended generations still hold",
      schedule: Schedule.rate(Duration.minutes(schedule.everyMinutes)),
      // A run that is lost is made up by the next one: no dead-letter queue.
      targets: [new LambdaFunction(this.reconcileFunction, { event: RuleTargetInput.fromObject(event), retryAttempts: 2 })],
    });
  }
}
