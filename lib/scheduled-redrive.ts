/**
 * The scheduled redrive: a rule that runs the redrive Lambda every so often, which redrives the
 * generations whose failure passes by itself, each at most `maxRedrives` times
 * (lambdas/redrive/handler.ts). Off unless `scheduledRedrive` is configured.
 */
import { Duration } from "aws-cdk-lib";
import { Rule, RuleTargetInput, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { ENV } from "../lambdas/common/settings";
import { PipelineFunction, type PipelineLogging } from "./pipeline-function";

interface ScheduledRedriveProps {
  readonly generation: StateMachine;
  readonly everyMinutes: number;
  /** How far back, from each run, failed executions are looked at (AWS redrives one up to 14 days after it stopped). */
  readonly lookBackHours: number;
  /** An execution that has had this many redrives (manual ones included) is left to an operator. */
  readonly maxRedrives: number;
  readonly logging: PipelineLogging;
}

export class ScheduledRedrive extends Construct {
  readonly redriveFunction: PipelineFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ScheduledRedriveProps) {
    super(scope, id);
    this.redriveFunction = new PipelineFunction(this, "Redrive", {
      name: "redrive",
      description: "Redrives the generations whose failure passes by itself, a few times at most",
      environment: { [ENV.generationStateMachineArn]: props.generation.stateMachineArn },
      // Pages through a day's failures and redrives them one by one.
      timeout: Duration.minutes(5),
      logging: props.logging,
    });
    props.generation.grant(this.redriveFunction, "states:ListExecutions");
    props.generation.grantExecution(this.redriveFunction, "states:DescribeExecution", "states:RedriveExecution");
    this.rule = new Rule(this, "Schedule", {
      description: "Runs the scheduled redrive of the generation workflow's passing failures",
      schedule: Schedule.rate(Duration.minutes(props.everyMinutes)),
      // A run that is lost is made up by the next one: no dead-letter queue.
      targets: [new LambdaFunction(this.redriveFunction, { event: RuleTargetInput.fromObject({ lookBackHours: props.lookBackHours, maxRedrives: props.maxRedrives }), retryAttempts: 2 })],
    });
  }
}
