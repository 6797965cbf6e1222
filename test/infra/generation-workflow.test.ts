import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { definitionFromTemplate, type StateMachineDefinition } from "#local/runner/definition";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";

let template: Template;
let definition: StateMachineDefinition;
let functionIds: Record<string, string>;
let secretId: string;
let callbackSecretId: string;
/** The same pipeline with callbacks off: WaitForVideo is a Wait, and polling is all there is. */
let pollingOnly: StateMachineDefinition;
let priceBatchId: string;

beforeAll(() => {
  const { stack, template: json } = synthesizePipeline();
  template = Template.fromJSON(json);
  definition = definitionFromTemplate(json, logicalIdOf(stack, stack.pipeline.generation.stateMachine));
  const callbacks = stack.pipeline.callbacks;
  if (!callbacks) throw new Error("callbacks are on by default with the API");
  functionIds = Object.fromEntries(
    [
      ...Object.entries(stack.pipeline.functions),
      ["await-video", callbacks.awaitVideo] as const,
      ["kling-callback", callbacks.callbackFunction] as const,
      ["reconcile-ledger", stack.pipeline.ledgerReconciliation.reconcileFunction] as const,
    ].map(
      ([name, fn]) => [name, logicalIdOf(stack, fn)],
    ),
  );
  secretId = logicalIdOf(stack, stack.pipeline.secret);
  callbackSecretId = logicalIdOf(stack, callbacks.secret);
  const off = synthesizePipeline({ callbacks: { enabled: false } });
  pollingOnly = definitionFromTemplate(off.template, logicalIdOf(off.stack, off.stack.pipeline.generation.stateMachine));
  priceBatchId = logicalIdOf(stack, stack.pipeline.batchFunctions["price-batch"]);
});

const state = (name: string) => {
  const found = definition.States[name];
  if (!found) throw new Error(`no state ${name}`);
  return found;
};

const TASKS = ["Validate", "CheckCredits", "WaitForSlot", "Submit", "Poll", "Archive", "ReleaseSlot", "Diagnose"];
const LAMBDA_SERVICE_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];

describe("the generation state machine", () => {
  it("has exactly the states an operator reads in the console", () => {
    expect(Object.keys(definition.States).sort()).toEqual(
      [
        "Archive",
        "AwaitRedrive",
        "BackToQueue",
        "CheckCredits",
        "Diagnose",
        "Failed",
        "Poll",
        "Recoverable?",
        "ReleaseSlot",
        "ResumeAfterRedrive",
        "Submit",
        "Validate",
        "VideoReady?",
        "WaitForSlot",
        "WaitForVideo",
      ].sort(),
    );
    expect(definition.StartAt).toBe("Validate");
  });

  it("chains Validate -> CheckCredits -> WaitForSlot -> Submit -> WaitForVideo -> Archive, the end, with Poll -> VideoReady? after a wait that timed out", () => {
    expect(state("Validate").Next).toBe("CheckCredits");
    expect(state("CheckCredits").Next).toBe("WaitForSlot");
    expect(state("WaitForSlot").Next).toBe("Submit");
    expect(state("Submit").Next).toBe("WaitForVideo");
    // A callback answers the wait only with the video (a failed task fails the state): nothing to choose.
    expect(state("WaitForVideo")).toMatchObject({ Type: "Task", Next: "Archive" });
    expect(state("Poll").Next).toBe("VideoReady?");
    expect(state("VideoReady?")).toMatchObject({
      Type: "Choice",
      Choices: [{ Variable: "$.task.status", StringEquals: "succeed", Next: "Archive" }],
      Default: "WaitForVideo",
    });
    // The generation succeeds as Archive ends: a Succeed state after it would cost a transition per job.
    expect(state("Archive")).toMatchObject({ Type: "Task", ResultPath: "$.archive", End: true });
    expect(state("Archive").Next).toBeUndefined();
    expect(state("Diagnose").Next).toBe("Recoverable?");
  });

  it("WaitForVideo waits on a task token until the fallback poll is due: Kling's callback answers it with the task, its timeout goes to Poll", () => {
    const waitForVideo = state("WaitForVideo");
    expect(waitForVideo).toMatchObject({
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      TimeoutSecondsPath: "$.task.nextWaitSeconds",
      ResultPath: "$.task",
    });
    expect(waitForVideo.TimeoutSeconds).toBeUndefined();
    expect((waitForVideo.Parameters as { FunctionName: string }).FunctionName).toContain(`function:${functionIds["await-video"]}`);
    expect((waitForVideo.Parameters as { Payload: unknown }).Payload).toMatchObject({
      "taskToken.$": "$$.Task.Token",
      "task.$": "$.task",
      "executionArn.$": "$$.Execution.Id",
    });
    // The timeout keeps the state as it was for Poll; any other failure is the usual failure path.
    expect(waitForVideo.Catch).toEqual([
      { ErrorEquals: ["States.Timeout"], ResultPath: null, Next: "Poll" },
      { ErrorEquals: ["States.ALL"], ResultPath: "$.failure.WaitForVideo", Next: "ReleaseSlot" },
    ]);
    expect(waitForVideo.Retry).toEqual([lambdaServiceRetry, lambdaStoppedRetry, ledgerBusyRetry]);
  });

  it("with callbacks off, WaitForVideo is the Wait before each poll, as long as Submit or Poll said", () => {
    expect(pollingOnly.States.WaitForVideo).toMatchObject({ Type: "Wait", SecondsPath: "$.task.nextWaitSeconds", Next: "Poll" });
    expect(pollingOnly.States.Submit?.Next).toBe("WaitForVideo");
    expect(pollingOnly.States.Poll?.Next).toBe("VideoReady?");
  });

  it("binds each task to its own Lambda through lambda:invoke", () => {
    const expected: Record<string, string> = {
      Validate: "validate",
      CheckCredits: "check-credits",
      Submit: "submit",
      Poll: "poll",
      Archive: "archive",
      ReleaseSlot: "release-slot",
      Diagnose: "diagnose",
    };
    for (const [stateName, fn] of Object.entries(expected)) {
      const task = state(stateName);
      expect(task.Resource).toBe("arn:aws:states:::lambda:invoke");
      expect((task.Parameters as { FunctionName: string }).FunctionName).toContain(`function:${functionIds[fn]}`);
    }
  });

  it("catches every error of every task into ReleaseSlot, keeping the input and naming the state, and ReleaseSlot goes on to Diagnose", () => {
    for (const name of TASKS.filter((task) => task !== "Diagnose" && task !== "ReleaseSlot" && task !== "Submit")) {
      expect(state(name).Catch).toEqual([{ ErrorEquals: ["States.ALL"], ResultPath: `$.failure.${name}`, Next: "ReleaseSlot" }]);
    }
    // Submit's refusals that are waits, not failures, go back to the queue first (see below).
    expect((state("Submit").Catch as unknown[]).slice(1)).toEqual([{ ErrorEquals: ["States.ALL"], ResultPath: "$.failure.Submit", Next: "ReleaseSlot" }]);
    // Whatever happens to the release, the failure is still diagnosed (the status-change rule is the backstop).
    expect(state("ReleaseSlot")).toMatchObject({
      Next: "Diagnose",
      ResultPath: null,
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: null, Next: "Diagnose" }],
    });
    expect((state("ReleaseSlot").Parameters as { Payload: Record<string, unknown> }).Payload["executionArn.$"]).toBe("$$.Execution.Id");
    expect(state("Diagnose").Catch).toBeUndefined();
  });

  it("WaitForSlot parks on its task token, for parkSeconds at a time, until the queue deadline", () => {
    const waitForSlot = state("WaitForSlot");
    expect(waitForSlot).toMatchObject({
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      TimeoutSeconds: 900,
      ResultPath: "$.slot",
    });
    expect((waitForSlot.Parameters as { FunctionName: string }).FunctionName).toContain(`function:${functionIds["wait-for-slot"]}`);
    expect((waitForSlot.Parameters as { Payload: unknown }).Payload).toMatchObject({
      "taskToken.$": "$$.Task.Token",
      "executionArn.$": "$$.Execution.Id",
      "redriveCount.$": "$$.Execution.RedriveCount",
    });
    // A lost wake-up costs one park: the retry looks again; 2700 s of queue deadline is 3 parks of 900 s, and one more look.
    expect((waitForSlot.Retry as unknown[])[0]).toEqual({ ErrorEquals: ["States.Timeout"], IntervalSeconds: 1, BackoffRate: 1, MaxAttempts: 4 });
    expect((state("Poll").Parameters as { Payload: Record<string, unknown> }).Payload["executionArn.$"]).toBe("$$.Execution.Id");
  });

  it("fails with the diagnosis: Error is the error name, Cause the diagnosis JSON", () => {
    expect(state("Failed")).toMatchObject({ Type: "Fail", ErrorPath: "$.diagnosis.errorCode", CausePath: "$.diagnosis.cause" });
    expect(state("Diagnose")).toMatchObject({
      ResultPath: "$.diagnosis",
      ResultSelector: {
        "errorCode.$": "$.Payload.errorCode",
        "cause.$": "$.Payload.cause",
        "failedState.$": "$.Payload.failedState",
        "recoverable.$": "$.Payload.recoverable",
        "redriveCount.$": "$$.Execution.RedriveCount",
      },
    });
  });

  it("tells Validate, which reads the whole state, whether a redrive resumed it", () => {
    expect((state("Validate").Parameters as { Payload: Record<string, unknown> }).Payload).toMatchObject({
      "request.$": "$",
      "redriveCount.$": "$$.Execution.RedriveCount",
    });
  });

  it("ends an unrecoverable failure in Failed and a recoverable one in AwaitRedrive", () => {
    expect(state("Recoverable?")).toMatchObject({
      Type: "Choice",
      Choices: [{ Variable: "$.diagnosis.recoverable", BooleanEquals: true, Next: "AwaitRedrive" }],
      Default: "Failed",
    });
  });

  it("AwaitRedrive is a callback Task that reads the redrive count again when a redrive resumes it", () => {
    const awaitRedrive = state("AwaitRedrive");
    expect(awaitRedrive).toMatchObject({
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      ResultPath: "$.failure",
      TimeoutSeconds: 300,
      Next: "ResumeAfterRedrive",
    });
    expect((awaitRedrive.Parameters as { FunctionName: string }).FunctionName).toContain(`function:${functionIds["await-redrive"]}`);
    expect((awaitRedrive.Parameters as { Payload: unknown }).Payload).toMatchObject({
      "taskToken.$": "$$.Task.Token",
      "diagnosedAtRedriveCount.$": "$.diagnosis.redriveCount",
      "redriveCount.$": "$$.Execution.RedriveCount",
      "errorCode.$": "$.diagnosis.errorCode",
      "cause.$": "$.diagnosis.cause",
    });
    // A Retry or Catch would turn the deliberate failure into something other than the execution's end.
    expect(awaitRedrive.Retry).toBeUndefined();
    expect(awaitRedrive.Catch).toBeUndefined();
  });

  it("resumes a redriven failure at the work that failed; a failed Poll at Submit, for a fresh deadline; a failed video at CheckCredits, before a new task is paid for", () => {
    expect(state("ResumeAfterRedrive")).toMatchObject({
      Type: "Choice",
      Choices: [
        { Variable: "$.diagnosis.errorCode", StringEquals: "Kling.GenerationFailed", Next: "CheckCredits" },
        { Variable: "$.diagnosis.failedState", StringEquals: "Validate", Next: "Validate" },
        { Variable: "$.diagnosis.failedState", StringEquals: "CheckCredits", Next: "CheckCredits" },
        // The failure path gave the slot back: the work resumes by taking one again.
        { Variable: "$.diagnosis.failedState", StringEquals: "WaitForSlot", Next: "WaitForSlot" },
        { Variable: "$.diagnosis.failedState", StringEquals: "BackToQueue", Next: "WaitForSlot" },
        { Variable: "$.diagnosis.failedState", StringEquals: "Submit", Next: "WaitForSlot" },
        { Variable: "$.diagnosis.failedState", StringEquals: "Poll", Next: "WaitForSlot" },
        { Variable: "$.diagnosis.failedState", StringEquals: "WaitForVideo", Next: "WaitForSlot" },
        // Archive runs after Poll gave the slot back and needs none.
        { Variable: "$.diagnosis.failedState", StringEquals: "Archive", Next: "Archive" },
      ],
      Default: "Failed",
    });
    expect((state("Submit").Parameters as { Payload: Record<string, unknown> }).Payload["redriveCount.$"]).toBe("$$.Execution.RedriveCount");
  });

  it("lets only AwaitRedrive's, AwaitVideo's and KlingCallback's functions fail or resume a token, the ledger's hand-over functions (its reconciliation too) only wake a waiter, Diagnose none (SendTask* exist on '*' only)", () => {
    const roleOf = (name: string) =>
      (template.findResources("AWS::Lambda::Function")[functionIds[name] ?? ""]?.Properties.Role as { "Fn::GetAtt": string[] })["Fn::GetAtt"][0];
    const policiesOf = (role: string | undefined) =>
      Object.values(template.findResources("AWS::IAM::Policy")).filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${role}"`));
    const sendsTaskResponses = (policy: object) => JSON.stringify(policy).includes("states:SendTask");

    const policies = Object.values(template.findResources("AWS::IAM::Policy")).filter(sendsTaskResponses);
    expect(policies.map((policy) => policy.Properties.PolicyDocument.Statement)).toEqual(
      expect.arrayContaining([
        [{ Action: ["states:SendTaskSuccess", "states:SendTaskFailure"], Effect: "Allow", Resource: "*" }],
        [{ Action: "states:SendTaskSuccess", Effect: "Allow", Resource: "*" }],
      ]),
    );
    expect(policies).toHaveLength(3);
    const failsTokens = policies.filter((policy) => JSON.stringify(policy).includes("states:SendTaskFailure"));
    expect(new Set(failsTokens.flatMap((policy) => policy.Properties.Roles))).toEqual(
      new Set(["await-redrive", "await-video", "kling-callback"].map((name) => ({ Ref: roleOf(name) }))),
    );
    const wakesWaiters = policies.find((policy) => !JSON.stringify(policy).includes("states:SendTaskFailure"));
    expect(new Set(wakesWaiters?.Properties.Roles)).toEqual(new Set(["wait-for-slot", "poll", "release-slot", "reconcile-ledger"].map((name) => ({ Ref: roleOf(name) }))));
    expect(roleOf("await-redrive")).not.toBe(roleOf("diagnose"));
    expect(policiesOf(roleOf("diagnose")).filter(sendsTaskResponses)).toEqual([]);
    const diagnoseRole = template.findResources("AWS::IAM::Role")[roleOf("diagnose") ?? ""];
    expect(JSON.stringify(diagnoseRole)).not.toContain("states:SendTask");
  });

  const lambdaServiceRetry = {
    ErrorEquals: LAMBDA_SERVICE_ERRORS,
    IntervalSeconds: 2,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    MaxAttempts: 6,
    JitterStrategy: "FULL",
  };
  const lambdaStoppedRetry = {
    ErrorEquals: ["Sandbox.Timedout", "Lambda.Unknown", "Runtime.ExitError"],
    IntervalSeconds: 5,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    MaxAttempts: 2,
    JitterStrategy: "FULL",
  };
  const rateLimitedRetry = {
    ErrorEquals: ["Kling.RateLimited"],
    IntervalSeconds: 2,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    MaxAttempts: 6,
    JitterStrategy: "FULL",
  };
  const concurrencyLimitedRetry = { ...rateLimitedRetry, ErrorEquals: ["Kling.ConcurrencyLimited"] };
  const serverErrorRetry = {
    ErrorEquals: ["Kling.ServerError"],
    IntervalSeconds: 10,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    MaxAttempts: 3,
    JitterStrategy: "FULL",
  };

  const ledgerBusyRetry = {
    ErrorEquals: ["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded", "InternalServerError"],
    IntervalSeconds: 1,
    BackoffRate: 2,
    MaxDelaySeconds: 20,
    MaxAttempts: 6,
    JitterStrategy: "FULL",
  };

  it("retries rate limits and server errors on the tasks that call Kling, and nothing else", () => {
    // Submit does not retry a 1303 holding a slot Kling says it has not: it goes back to the queue.
    expect(state("Submit").Retry).toEqual([lambdaServiceRetry, lambdaStoppedRetry, rateLimitedRetry, serverErrorRetry]);
    // CheckCredits reserves the price and Poll releases the slot in the ledger: a throttled ledger is retried too.
    for (const name of ["CheckCredits", "Poll"]) {
      expect(state(name).Retry).toEqual([lambdaServiceRetry, lambdaStoppedRetry, rateLimitedRetry, concurrencyLimitedRetry, serverErrorRetry, ledgerBusyRetry]);
    }
    expect((state("CheckCredits").Parameters as { Payload: Record<string, unknown> }).Payload["executionArn.$"]).toBe("$$.Execution.Id");
  });

  it("sends a 1303 at Submit, and a rate limit past its retries, back to the queue at the generation's first place; BackToQueue then goes back to Submit", () => {
    expect((state("Submit").Catch as unknown[])[0]).toEqual({
      ErrorEquals: ["Kling.RateLimited", "Kling.ConcurrencyLimited"],
      ResultPath: "$.refusal",
      Next: "BackToQueue",
    });
    const backToQueue = state("BackToQueue");
    expect(backToQueue).toMatchObject({
      Type: "Task",
      Resource: "arn:aws:states:::lambda:invoke.waitForTaskToken",
      // Its park is the probe's quiet period (slotQueue.probeSeconds, 60 by default).
      TimeoutSeconds: 60,
      ResultPath: "$.slot",
      Next: "Submit",
    });
    expect((backToQueue.Parameters as { FunctionName: string }).FunctionName).toContain(`function:${functionIds["wait-for-slot"]}`);
    expect((backToQueue.Parameters as { Payload: unknown }).Payload).toMatchObject({
      "taskToken.$": "$$.Task.Token",
      "executionArn.$": "$$.Execution.Id",
      "redriveCount.$": "$$.Execution.RedriveCount",
      "queuedSince.$": "$.slot.queuedSince",
      "refusal.$": "$.refusal",
    });
    // 2700 s of queue deadline is 45 parks of 60 s, and one more look.
    expect((backToQueue.Retry as unknown[])[0]).toEqual({ ErrorEquals: ["States.Timeout"], IntervalSeconds: 1, BackoffRate: 1, MaxAttempts: 46 });
    expect((backToQueue.Retry as unknown[]).slice(1)).toEqual([lambdaServiceRetry, lambdaStoppedRetry, ledgerBusyRetry]);
    expect(backToQueue.Catch).toEqual([{ ErrorEquals: ["States.ALL"], ResultPath: "$.failure.BackToQueue", Next: "ReleaseSlot" }]);
  });

  it("retries Lambda's own faults and a throttled ledger on the ledger's states", () => {
    expect(state("ReleaseSlot").Retry).toEqual([lambdaServiceRetry, lambdaStoppedRetry, ledgerBusyRetry]);
    expect((state("WaitForSlot").Retry as unknown[]).slice(1)).toEqual([lambdaServiceRetry, lambdaStoppedRetry, ledgerBusyRetry]);
  });

  it("retries only Lambda's own faults on Validate and Diagnose", () => {
    expect(state("Validate").Retry).toEqual([lambdaServiceRetry, lambdaStoppedRetry]);
    expect(state("Diagnose").Retry).toEqual([lambdaServiceRetry, lambdaStoppedRetry]);
  });

  it("never retries the errors a retry cannot fix", () => {
    const retried = TASKS.flatMap((name) => (state(name).Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals));
    for (const name of ["Kling.InsufficientCredits", "Kling.AuthFailed", "Kling.ContentPolicy", "Kling.InvalidRequest", "Kling.PollTimeout", "Kling.QueueTimeout", "States.ALL"]) {
      expect(retried).not.toContain(name);
    }
  });

  it("has a Comment on every state and a whole-execution timeout", () => {
    for (const [name, body] of Object.entries(definition.States)) {
      expect(body.Comment, name).toEqual(expect.any(String));
    }
    expect(definition.TimeoutSeconds).toBe(450 * 60);
  });
});

describe("the stack", () => {
  it("runs a Standard state machine with tracing, logging to its own log group", () => {
    template.hasResourceProperties("AWS::StepFunctions::StateMachine", {
      StateMachineType: "STANDARD",
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { "Fn::GetAtt": [Match.anyValue(), "Arn"] } } }],
      }),
    });
  });

  it("logs only errors, without the states' input and output (requests, callback URLs, task tokens), from both state machines unless executionLogs says otherwise", () => {
    const loggingOf = (json: typeof template) =>
      Object.values(json.findResources("AWS::StepFunctions::StateMachine")).map((machine) => {
        const { Level, IncludeExecutionData } = machine.Properties.LoggingConfiguration as { Level: string; IncludeExecutionData: boolean };
        return { Level, IncludeExecutionData };
      });
    expect(loggingOf(template)).toEqual([
      { Level: "ERROR", IncludeExecutionData: false },
      { Level: "ERROR", IncludeExecutionData: false },
    ]);
    const verbose = Template.fromJSON(synthesizePipeline({ executionLogs: { level: "ALL", includeExecutionData: true } }).template);
    expect(loggingOf(verbose)).toEqual([
      { Level: "ALL", IncludeExecutionData: true },
      { Level: "ALL", IncludeExecutionData: true },
    ]);
  });

  it("runs every function on Node.js 22, arm64, with tracing and a log group of its own", () => {
    const all = template.findResources("AWS::Lambda::Function");
    const conforming = template.findResources("AWS::Lambda::Function", {
      Properties: {
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        TracingConfig: { Mode: "Active" },
        LoggingConfig: { LogGroup: { Ref: Match.anyValue() } },
      },
    });
    expect(Object.keys(conforming).sort()).toEqual(Object.keys(all).sort());
    expect(Object.keys(all)).toEqual(expect.arrayContaining(Object.values(functionIds)));
  });

  const functionsReading = (secret: string) => {
    const policies = template.findResources("AWS::IAM::Policy");
    const statements = Object.values(policies).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .filter((statement) => JSON.stringify(statement.Resource) === JSON.stringify({ Ref: secret }))
        .map((statement) => ({ statement, roles: policy.Properties.Roles as { Ref: string }[] })),
    );
    for (const { statement } of statements) expect(statement).toMatchObject({ Action: "secretsmanager:GetSecretValue", Effect: "Allow" });
    const roles = statements.flatMap(({ roles }) => roles);
    return Object.entries(template.findResources("AWS::Lambda::Function"))
      .filter(([, fn]) => roles.some((role) => JSON.stringify(fn.Properties.Role).includes(role.Ref)))
      .map(([id]) => id)
      .sort();
  };

  it("lets only the functions that call Kling (the batch's PriceBatch too) read its credentials secret, with GetSecretValue and nothing else", () => {
    // Archive asks Kling for the task's video rather than trusting the state's URL.
    const names = ["check-credits", "submit", "poll", "archive", "kling-callback"];
    expect(functionsReading(secretId)).toEqual([...names.map((name) => functionIds[name]), priceBatchId].sort());
    const statements = Object.values(template.findResources("AWS::IAM::Policy")).flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[],
    );
    expect(statements.filter((statement) => JSON.stringify(statement.Action).includes("secretsmanager")).every((statement) => statement.Action === "secretsmanager:GetSecretValue")).toBe(true);
  });

  it("lets only Submit, which makes the callback URLs, and KlingCallback, which checks them, read the callback secret", () => {
    expect(functionsReading(callbackSecretId)).toEqual([functionIds.submit, functionIds["kling-callback"]].sort());
  });

  it("keeps the account ledger in an on-demand, encrypted table with point-in-time recovery", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it("releases whatever an ended execution holds: a rule on the state machine's status changes invokes ReleaseSlot (and notifies the requester)", () => {
    const generationId = Object.keys(template.findResources("AWS::StepFunctions::StateMachine")).find((id) => id.includes("Generation"));
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        detail: { stateMachineArn: [{ Ref: generationId }], status: ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] },
      },
      Targets: Match.arrayWith([Match.objectLike({ Arn: { "Fn::GetAtt": [functionIds["release-slot"], "Arn"] } })]),
    });
  });

  it("gives the functions the secret's ARN, never a credential", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ KLING_SECRET_ARN: { Ref: secretId } }) },
    });
  });
});
