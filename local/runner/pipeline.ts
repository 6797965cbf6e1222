/**
 * The pipeline on one machine: the stack synthesized in-process, its state machines taken
 * from the template and run by the local engine, every Lambda the real handler code, child
 * executions on the same engine, and outcome events on a local bus.
 */
import type { Environment } from "#lambdas/common/config";
import { portsFromEnvironment } from "#lambdas/common/aws-ports";
import type { HandlerPorts } from "#lambdas/common/ports";
import { CALLBACK_ENV, DOWNLOAD_ENV, ENV } from "#lambdas/common/settings";
import { wallClock } from "#lambdas/common/clock";
import { newWebhookSecret } from "#lambdas/common/standard-webhooks";
import { notifyPortsFrom } from "#lambdas/notify-requester/handler";
import { httpsWebhookSender } from "#lambdas/notify-requester/https-sender";
import { LOCAL_CREDENTIAL_VARIABLES } from "#lambdas/common/credentials";
import type { KlingCredentials } from "#lambdas/kling/port";
import { POWERTOOLS_ENV } from "#lambdas/observability/catalog";
import type { IStateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { type CloudFormationTemplate, definitionFromTemplate, localArn } from "./definition";
import { BATCH_EVENTS } from "#lambdas/batch/batch";
import { LocalEventBus } from "./event-bus";
import { assertPutEventsSize } from "./quotas";
import { LocalExecutions, startExecutionSync } from "./executions";
import { type LambdaHandler, localHandlers, type LocalFunctionName } from "./handlers";
import type { ExecutionStatuses } from "#lambdas/reconcile-ledger/execution-statuses";
import type { Reconciled } from "#lambdas/reconcile-ledger/reconcile";
import { invokeLikeLambda } from "./lambda-binding";
import { type EngineEvent, type ExecutionContext, type ExecutionReport, LocalStateMachine, type TaskBinder } from "./local-engine";
import type { LocalClock } from "./scaled-clock";
import { LocalTaskResponses } from "./task-token-binding";
import type { LocalPlan } from "./local-plan";
import { startLocalVideoBucket } from "../storage/local-video-bucket";
import type { VideoBucketServer } from "../storage/video-bucket-server";
import type { VideoBucket } from "#lambdas/common/video-bucket";
import type { Ledger } from "#lambdas/ledger/ledger";
import type { PutEventsEntry } from "../serve/put-events";
import { type LocalLedger, startLocalLedger } from "../ledger/local-ledger";
import { randomBytes } from "node:crypto";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { errorResponse } from "#lambdas/api/http";
import { LOCAL_CALLBACK_SECRET_VARIABLES } from "#lambdas/common/callback-secrets";
import { klingCallbackHandler } from "#lambdas/kling-callback/handler";
import { type CallbackEndpoint, type CallbackHandler, startCallbackEndpoint } from "../serve/callback-endpoint";

export interface LocalPipelineOptions {
  readonly clock: LocalClock;
  /** Draws the retries' full jitter; Math.random unless the run is seeded (the benchmark). */
  readonly random?: () => number;
  /** The synthesized stack's template and resources (synthesize.ts's synthesizedPlan, or plan-cache.ts's kept copy). */
  readonly plan: LocalPlan;
  /** Sees every event of every generation execution started through {@link LocalPipeline.executions}. */
  readonly onGenerationEvent?: (executionName: string, event: EngineEvent) => void;
  /**
   * Wraps each Lambda invocation: how the tests stage the hard edges (e.g. a function that did
   * its work but was killed before it could answer) and how the benchmark counts invocations.
   * The callback function's invocations come as the state "KlingCallback", with no execution.
   */
  readonly aroundInvoke?: (
    stateName: string,
    invoke: () => Promise<unknown>,
    execution: ExecutionContext | undefined,
    environment: Environment,
  ) => Promise<unknown>;
  /** Leaves out the status-change rule's delivery: how a test shows what the ledger's backstop catches. */
  readonly withoutStatusChangeBackstop?: boolean;
  /** The ledger the functions use, given the table's own: how the chaos run puts faults in its calls. */
  readonly functionsLedger?: (ledger: Ledger) => Ledger;
  /**
   * Where the embedded S3 keeps the archived videos, which outlive the pipeline; without it, a
   * temporary directory removed on close.
   */
  readonly videoDirectory?: string;
  /**
   * What NotifyRequester signs with (else a new secret each pipeline, {@link LocalPipeline.requesterWebhookSecret}),
   * the only CA it trusts for a requester's https callbackUrl (else the system's, and NODE_EXTRA_CA_CERTS),
   * and `allowLoopback`, a local-only allowance the stack never has: notifications may go to
   * 127.0.0.1 (or ::1), where a test's receiver listens. Without it, as on Lambda, a callbackUrl
   * that is an IP literal or resolves to a loopback, private or link-local address is refused.
   */
  readonly requesterCallbacks?: { readonly secret?: string; readonly trustedCa?: string | Buffer; readonly allowLoopback?: boolean };
  /** The Standard Webhooks secret Kling signs its callbacks with (the simulator's callbackSigningSecret): the callback function verifies them. */
  readonly klingCallbackSigningSecret?: string;
}

/**
 * The Lambdas' environment as the template sets it, but for Kling's URL and the secret ARN:
 * locally {@link LocalPipeline.connect} decides where Kling is and puts the credentials in
 * the environment. The handlers read it through their ports; only the Powertools variables,
 * which the Powertools library reads from process.env itself, go there, with dev mode on: log
 * lines reach `console` (the local command sends them to stderr, the chaos run scans them) and
 * no EMF metric is printed.
 */
function functionEnvironment(template: CloudFormationTemplate, functionIds: readonly string[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const id of functionIds) {
    const variables = (template.Resources[id]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    for (const [name, value] of Object.entries(variables ?? {})) {
      // Locally the ledger is dynalite's table and the video bucket s3rver's, both passed as ports.
      if (
        name === ENV.klingSecretArn ||
        name === ENV.requesterWebhookSecretArn ||
        name === ENV.klingBaseUrl ||
        name === ENV.videoBucketName ||
        name === ENV.ledgerTableName ||
        // Locally the executions the functions describe are the local engine's.
        name === ENV.generationStateMachineArn ||
        // Locally the callbacks arrive at a local endpoint, and the capability key is the pipeline's own.
        name === CALLBACK_ENV.baseUrl ||
        name === CALLBACK_ENV.secretArn ||
        name.startsWith("AWS_")
      ) {
        continue;
      }
      if (typeof value !== "string") throw new Error(`cannot run ${id} locally: ${name} is not a plain string`);
      if (merged[name] !== undefined && merged[name] !== value) {
        throw new Error(`cannot run the functions in one process: they set ${name} differently`);
      }
      merged[name] = value;
    }
  }
  merged[POWERTOOLS_ENV.devMode] = "true";
  const powertoolsNames: readonly string[] = Object.values(POWERTOOLS_ENV);
  for (const [name, value] of Object.entries(merged)) if (powertoolsNames.includes(name)) process.env[name] = value;
  return merged;
}

/** A function's Timeout as the template sets it (Lambda's default is 3 s). */
function functionTimeoutSeconds(template: CloudFormationTemplate, functionArn: string): number {
  const logicalId = functionArn.split(":").at(-1) ?? "";
  const timeout = template.Resources[logicalId]?.Properties?.Timeout;
  return typeof timeout === "number" ? timeout : 3;
}

/**
 * The rule on the generation state machine's "Step Functions Execution Status Change" events
 * (lib/account-ledger.ts), as EventBridge delivers to its target function: undefined when the
 * template has none. A delivery that fails is reported, as EventBridge's failed-invocation metric would.
 */
function endedExecutionRule(
  template: CloudFormationTemplate,
  stateMachineId: string,
  handlerByArn: ReadonlyMap<string, LocalFunctionName>,
  handlers: Readonly<Record<LocalFunctionName, LambdaHandler>>,
): ((report: ExecutionReport, stateMachineArn: string, redriveCount: number) => Promise<void>) | undefined {
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== "AWS::Events::Rule") continue;
    const pattern = resource.Properties?.EventPattern as
      | { source?: string[]; "detail-type"?: string[]; detail?: { stateMachineArn?: unknown[]; status?: string[] } }
      | undefined;
    if (!pattern?.source?.includes("aws.states")) continue;
    if (JSON.stringify(pattern.detail?.stateMachineArn) !== JSON.stringify([{ Ref: stateMachineId }])) continue;
    const targets = (resource.Properties?.Targets as { Arn?: { "Fn::GetAtt"?: [string, string] } }[] | undefined) ?? [];
    const names = targets.map((target) => {
      const targetId = target.Arn?.["Fn::GetAtt"]?.[0];
      const name = targetId === undefined ? undefined : handlerByArn.get(localArn(template, targetId));
      if (!name) throw new Error("the rule on the generation state machine's status changes targets a function that does not run locally");
      return name;
    });
    const statuses = new Set(pattern.detail?.status ?? []);
    const detailType = pattern["detail-type"]?.[0];
    return async (report, stateMachineArn, redriveCount) => {
      if (!statuses.has(report.status)) return;
      // As Step Functions sends it (its input and output as JSON text; locally never left out for size).
      const event = {
        source: "aws.states",
        "detail-type": detailType,
        time: new Date(report.stoppedAt).toISOString(),
        detail: {
          executionArn: report.executionArn,
          stateMachineArn,
          name: report.executionName,
          status: report.status,
          redriveCount,
          input: JSON.stringify(report.input),
          output: report.status === "SUCCEEDED" ? JSON.stringify(report.output) : null,
          error: report.error,
          cause: report.cause,
        },
      };
      await Promise.all(
        names.map((name) =>
          invokeLikeLambda(handlers[name], event).catch((error: unknown) => {
            console.error(`the status-change rule's ${name} failed for ${report.executionName}: ${error instanceof Error ? error.message : String(error)}`);
          }),
        ),
      );
    };
  }
  return undefined;
}

interface RulePattern {
  readonly sources: readonly string[];
  readonly detailTypes: readonly string[];
}

/** The event patterns of the template's rules whose target is this resource. */
function rulePatternsTargeting(template: CloudFormationTemplate, targetId: string): RulePattern[] {
  return Object.values(template.Resources)
    .filter((resource) => resource.Type === "AWS::Events::Rule")
    .filter((resource) => JSON.stringify((resource.Properties?.Targets as { Arn?: unknown }[] | undefined)?.map((target) => target.Arn)) === JSON.stringify([{ Ref: targetId }]))
    .map((resource) => resource.Properties?.EventPattern as { source?: string[]; "detail-type"?: string[] } | undefined)
    .filter((pattern) => pattern !== undefined)
    .map((pattern) => ({ sources: pattern.source ?? [], detailTypes: pattern["detail-type"] ?? [] }));
}

/** A function a schedule's rule invokes: its handler, the rule's input, and the rate. */
interface ScheduledInvocation {
  readonly invoke: LambdaHandler;
  readonly input: unknown;
  readonly periodSeconds: number;
}

/** The one rule of the template that runs this function on a `rate(...)` schedule, with its constant input. */
function scheduledInvocation(template: CloudFormationTemplate, functionId: string, invoke: LambdaHandler): ScheduledInvocation {
  const rules = Object.values(template.Resources).filter(
    (resource) =>
      resource.Type === "AWS::Events::Rule" &&
      typeof resource.Properties?.ScheduleExpression === "string" &&
      JSON.stringify((resource.Properties?.Targets as { Arn?: unknown }[] | undefined)?.map((target) => target.Arn)) === JSON.stringify([{ "Fn::GetAtt": [functionId, "Arn"] }]),
  );
  const [rule] = rules;
  if (rules.length !== 1 || !rule) throw new Error(`the template has ${rules.length} schedules for ${functionId}, not one`);
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(String(rule.Properties?.ScheduleExpression));
  if (!rate) throw new Error(`${functionId}'s schedule ${String(rule.Properties?.ScheduleExpression)} is not a rate the local runner plays`);
  const unitSeconds = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 }[rate[2] as "minute"];
  const [target] = rule.Properties?.Targets as { Input?: unknown }[];
  return { invoke, input: typeof target?.Input === "string" ? JSON.parse(target.Input) : {}, periodSeconds: Number(rate[1]) * unitSeconds };
}

/** The two state machines a local pipeline runs: a generation, and the batch that starts generations. */
export interface LocalWorkflows {
  readonly generation: IStateMachine;
  readonly batch: IStateMachine;
}

/** How {@link LocalPipelineOptions.aroundInvoke} names the callback function's invocations. */
export const KLING_CALLBACK_STATE = "KlingCallback";

const RESOURCE = {
  lambdaInvoke: "arn:aws:states:::lambda:invoke",
  lambdaInvokeWithTaskToken: "arn:aws:states:::lambda:invoke.waitForTaskToken",
  startExecutionSync: "arn:aws:states:::states:startExecution.sync:2",
  putEvents: "arn:aws:states:::events:putEvents",
} as const;

export class LocalPipeline {
  readonly generation: LocalStateMachine;
  readonly batch: LocalStateMachine;
  /** The generation state machine's executions by name: the batch's children and the local API's. */
  readonly executions: LocalExecutions;
  readonly bus = new LocalEventBus();
  /** The source of the events the batch rule starts a batch for. */
  readonly batchRequestSource: string;
  /** How long the API's links to archived videos live (the configuration's videoArchive.linkSeconds). */
  readonly videoLinkSeconds: number;
  /** What NotifyRequester signs the notifications to a request's callbackUrl with (`npm start -- serve` prints it). */
  readonly requesterWebhookSecret: string;
  /** The account ledger every generation passes through, on dynalite. */
  readonly ledger: LocalLedger = startLocalLedger();
  /** The task tokens the waitForTaskToken Tasks wait on, and who answers them. */
  readonly taskResponses: LocalTaskResponses;
  /**
   * The environment the functions run with: the template's variables, with Kling's URL and the
   * credentials {@link LocalPipeline.connect} sets. The ports read it when a handler runs.
   */
  private readonly environment: Record<string, string>;
  private videoBucket: Promise<VideoBucketServer> | undefined;
  /** With callbacks on: the callback function, and the endpoint the simulator calls it through (unless {@link receiveCallbacksAt} names another). */
  private readonly klingCallback: CallbackHandler | undefined;
  private readonly callbackEndpoint: Promise<CallbackEndpoint> | undefined;
  /** Status-change events and batch requests on their way to their rules' targets. */
  private readonly deliveries = new Set<Promise<void>>();
  /** The stack's rules that start the batch workflow. */
  private readonly batchRequestPatterns: readonly RulePattern[];
  /** The ledger's reconciliation as its schedule's rule invokes it. */
  private readonly reconciliation: ScheduledInvocation;

  // Longer than 60 lines: the switch binding each kind of Task to local code is read as one table of the integrations.
  constructor(readonly options: LocalPipelineOptions) {
    const { plan } = options;
    const { template } = plan;
    this.batchRequestSource = plan.batchRequestSource;
    this.videoLinkSeconds = plan.videoLinkSeconds;
    const handlerByArn = new Map<string, LocalFunctionName>();
    for (const [name, logicalId] of Object.entries(plan.functionIds)) handlerByArn.set(localArn(template, logicalId), name as LocalFunctionName);
    const callbacksOn = plan.callbackFunctionId !== undefined;
    this.environment = functionEnvironment(template, [...Object.values(plan.functionIds), ...(plan.callbackFunctionId === undefined ? [] : [plan.callbackFunctionId])]);
    const taskResponses = new LocalTaskResponses(options.clock);
    this.taskResponses = taskResponses;
    // The ports a container gets on AWS, but for the ledger (dynalite's table) and the task tokens (the local engine's).
    const functionsLedger = options.functionsLedger ? options.functionsLedger(this.ledger.ledger) : this.ledger.ledger;
    const ports: HandlerPorts = {
      ...portsFromEnvironment(this.environment, options.clock),
      ledger: () => functionsLedger,
      taskWaits: () => this.ledger.taskWaits,
      taskResponses,
      // Started by Archive's first invocation, inside it: on a virtual clock no time passes while s3rver comes up.
      videoBucket: () => this.videoBucketPort(),
    };
    this.requesterWebhookSecret = options.requesterCallbacks?.secret ?? newWebhookSecret();
    this.environment[ENV.requesterWebhookSecret] = this.requesterWebhookSecret;
    // The wall clock, not the scaled one: the requester checks webhook-timestamp against its own clock.
    const notifyPorts = notifyPortsFrom(this.environment, wallClock, httpsWebhookSender({ ca: options.requesterCallbacks?.trustedCa, allowLoopback: options.requesterCallbacks?.allowLoopback ?? false }), ports.ledger, () => {
      throw new Error("locally a status change event always carries the execution's input and output");
    });
    const environment: Environment = this.environment;
    if (callbacksOn) {
      this.environment[LOCAL_CALLBACK_SECRET_VARIABLES.capabilityKey] = randomBytes(32).toString("base64url");
      if (options.klingCallbackSigningSecret !== undefined) this.environment[LOCAL_CALLBACK_SECRET_VARIABLES.klingSigningSecret] = options.klingCallbackSigningSecret;
      const klingCallback = klingCallbackHandler(ports);
      // Not the clock's work: it runs within the simulator's delivery, which is (see handleKlingCallback).
      this.klingCallback = (event) => aroundInvoke(KLING_CALLBACK_STATE, () => klingCallback(event), undefined) as Promise<APIGatewayProxyResult>;
      // Until the endpoint listens, Submit would send no callback URL: every invocation waits for it.
      this.callbackEndpoint = startCallbackEndpoint((event) => this.handleKlingCallback(event)).then((endpoint) => {
        this.environment[CALLBACK_ENV.baseUrl] ??= endpoint.url;
        return endpoint;
      });
    }
    const callbackEndpoint = this.callbackEndpoint;
    // Every invocation runs as the clock's work: a virtual clock holds time still meanwhile. Until
    // the callback endpoint listens, Submit would send no callback URL: invocations wait for it.
    const handlers = Object.fromEntries(
      Object.entries(localHandlers(ports, notifyPorts, environment, { inFlight: () => this.ledger.inFlight, executions: () => this.executionStatuses() })).map(([name, handler]) => [
        name,
        (event: unknown) => options.clock.work(async () => (await callbackEndpoint, handler(event))),
      ]),
    ) as Record<LocalFunctionName, LambdaHandler>;

    const generationId = plan.generationStateMachineId;
    const generationArn = localArn(template, generationId);
    /** Binds each Task to local code: a handler, a child execution, or the local bus. */
    const around = options.aroundInvoke ?? ((_stateName, invoke) => invoke());
    const aroundInvoke = (stateName: string, invoke: () => Promise<unknown>, execution: ExecutionContext | undefined) => around(stateName, invoke, execution, environment);
    const bindTask: TaskBinder = (stateName, state) => {
      const parameters = state.Parameters as Record<string, unknown> | undefined;
      switch (state.Resource) {
        case RESOURCE.lambdaInvoke: {
          const functionArn = parameters?.FunctionName;
          const name = typeof functionArn === "string" ? handlerByArn.get(functionArn) : undefined;
          if (!name || typeof functionArn !== "string") return undefined;
          const handler = handlers[name];
          const seconds = functionTimeoutSeconds(template, functionArn);
          // Handler time is real CPU and network time, like the Kling client's own timeout: not scaled.
          const timeout = { seconds, realMs: seconds * 1000 };
          return (input, execution) => aroundInvoke(stateName, () => invokeLikeLambda(handler, input, timeout), execution);
        }
        case RESOURCE.lambdaInvokeWithTaskToken: {
          const functionArn = parameters?.FunctionName;
          const name = typeof functionArn === "string" ? handlerByArn.get(functionArn) : undefined;
          if (!name || typeof functionArn !== "string") return undefined;
          const seconds = functionTimeoutSeconds(template, functionArn);
          const timeout = { seconds, realMs: seconds * 1000 };
          // How long the Task waits for its token is simulated time (WaitForSlot's park, WaitForVideo's fallback poll).
          return (input, execution, timeoutSeconds) => aroundInvoke(stateName, () => taskResponses.invoke(handlers[name], input, timeout, timeoutSeconds, execution.arn), execution);
        }
        case RESOURCE.startExecutionSync:
          if (parameters?.StateMachineArn !== generationArn) return undefined;
          return (input) => startExecutionSync(this.executions, input);
        case RESOURCE.putEvents:
          return async (input) => this.bus.putEvents(input);
        default: {
          // A function's own ARN as the Resource (payloadResponseOnly): the input is the event, the result the payload.
          const name = typeof state.Resource === "string" ? handlerByArn.get(state.Resource) : undefined;
          if (!name || typeof state.Resource !== "string") return undefined;
          const seconds = functionTimeoutSeconds(template, state.Resource);
          const timeout = { seconds, realMs: seconds * 1000 };
          return async (input, execution) => {
            const invoked = await aroundInvoke(stateName, () => invokeLikeLambda(handlers[name], { Payload: input }, timeout), execution);
            return (invoked as { Payload: unknown }).Payload;
          };
        }
      }
    };
    const releaseEnded = options.withoutStatusChangeBackstop ? undefined : endedExecutionRule(template, generationId, handlerByArn, handlers);
    this.generation = new LocalStateMachine({
      definition: definitionFromTemplate(template, generationId),
      stateMachineArn: generationArn,
      clock: options.clock,
      ...(options.random ? { random: options.random } : {}),
      bindTask,
      // Delivered asynchronously, as EventBridge does: the execution has ended already.
      onEnded: (report, redriveCount) => {
        // Its waiting Tasks' tokens close with it, as on AWS.
        taskResponses.closeExecution(report.executionArn);
        if (releaseEnded) this.deliver(releaseEnded(report, generationArn, redriveCount));
      },
    });
    this.executions = new LocalExecutions(this.generation, options.onGenerationEvent);
    const batchId = plan.batchStateMachineId;
    this.batch = new LocalStateMachine({
      definition: definitionFromTemplate(template, batchId),
      stateMachineArn: localArn(template, batchId),
      clock: options.clock,
      ...(options.random ? { random: options.random } : {}),
      bindTask,
    });
    this.batchRequestPatterns = rulePatternsTargeting(template, batchId);
    const reconcileId = plan.functionIds["reconcile-ledger"];
    if (reconcileId === undefined) throw new Error("the plan names no ledger reconciliation function");
    this.reconciliation = scheduledInvocation(template, reconcileId, handlers["reconcile-ledger"]);
  }

  /** What the reconciliation describes: the generation executions of the local engine, as DescribeExecution answers. */
  private executionStatuses(): ExecutionStatuses {
    return { stateMachineArn: this.generation.stateMachineArn, describe: (executionArn) => this.executions.describeExecution(executionArn) };
  }

  /** How often the ledger's reconciliation runs (its rule's rate), in simulated seconds. */
  get reconciliationPeriodSeconds(): number {
    return this.reconciliation.periodSeconds;
  }

  /**
   * One run of the ledger's reconciliation, as its schedule's rule invokes ReconcileLedger (the
   * rule's input as the event). Locally nothing runs it on a schedule: the caller does, on its clock.
   */
  async reconcileLedger(): Promise<Reconciled> {
    await this.ledger.ready;
    const invoked = (await invokeLikeLambda(this.reconciliation.invoke, this.reconciliation.input)) as { Payload: Reconciled };
    return invoked.Payload;
  }

  /**
   * An event put on the default bus (the local server's PutEvents): each of the stack's rules
   * that starts the batch workflow and matches it starts a batch with the event's detail, as
   * EventBridge would; the call does not wait for it.
   */
  putEvent(entry: PutEventsEntry): void {
    for (const pattern of this.batchRequestPatterns) {
      if (!pattern.sources.includes(entry.source) || !pattern.detailTypes.includes(entry.detailType)) continue;
      this.deliver(
        this.runBatch(entry.detail, `events-${entry.eventId}`).then(
          () => undefined,
          (error: unknown) => console.error(`the batch of event ${entry.eventId} could not run: ${error instanceof Error ? error.message : String(error)}`),
        ),
      );
    }
  }

  /** The configuration the functions run with (the local API validates with it too). */
  get functionEnvironment(): Environment {
    return this.environment;
  }

  /**
   * Kling's callback as the callback route's function answers it (404 when callbacks are off):
   * what the local endpoint and the local API server call. It runs within the simulator's
   * delivery, which is the clock's work: it must not wait for other work on the same clock.
   */
  handleKlingCallback(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    if (!this.klingCallback) return Promise.resolve(errorResponse(404, ["callbacks are off in this pipeline's configuration"]));
    return this.klingCallback(event);
  }

  /** Whether Submit gives Kling a callback URL (the configuration's callbacks, on by default as with the API). */
  get callbacksOn(): boolean {
    return this.klingCallback !== undefined;
  }

  /** Kling is told to call back at `baseUrl` (the local API server's, which answers the route too) instead of the pipeline's own endpoint. */
  receiveCallbacksAt(baseUrl: string): void {
    if (this.klingCallback) this.environment[CALLBACK_ENV.baseUrl] = baseUrl;
  }

  /**
   * Points the Lambdas at a Kling endpoint (the simulator or the real one) with these credentials.
   * Archive may download from that endpoint's host too (the simulator serves its videos there,
   * over http): a local-only allowance the stack never sets (DOWNLOAD_ENV.localVideoHost).
   */
  connect(baseUrl: string, credentials: KlingCredentials): void {
    const env = this.environment;
    env[ENV.klingBaseUrl] = baseUrl;
    env[DOWNLOAD_ENV.localVideoHost] = new URL(baseUrl).hostname;
    for (const name of Object.values(LOCAL_CREDENTIAL_VARIABLES)) delete env[name];
    if ("apiKey" in credentials) {
      env[LOCAL_CREDENTIAL_VARIABLES.apiKey] = credentials.apiKey;
    } else {
      env[LOCAL_CREDENTIAL_VARIABLES.accessKey] = credentials.accessKey;
      env[LOCAL_CREDENTIAL_VARIABLES.secretKey] = credentials.secretKey;
    }
  }

  async runGeneration(request: unknown, executionName: string, onEvent?: (event: EngineEvent) => void): Promise<ExecutionReport> {
    await this.ledger.ready;
    return this.generation.run(request, executionName, onEvent);
  }

  async runBatch(detail: unknown, executionName: string, onEvent?: (event: EngineEvent) => void): Promise<ExecutionReport> {
    await this.ledger.ready;
    return this.batch.run(detail, executionName, onEvent);
  }

  /**
   * A batch as it arrives on AWS: PutEvents takes the batch's event (or refuses it, past 256 KB,
   * before anything starts), and the batch rule starts the batch workflow with its detail.
   */
  async runBatchEvent(detail: unknown, executionName: string, onEvent?: (event: EngineEvent) => void): Promise<ExecutionReport> {
    assertPutEventsSize([{ Source: this.batchRequestSource, DetailType: BATCH_EVENTS.requested, Detail: JSON.stringify(detail) }]);
    return this.runBatch(detail, executionName, onEvent);
  }

  /**
   * The embedded S3 (s3rver) holding the video bucket, started when Archive first needs it and
   * stopped by {@link close}.
   */
  videoBucketServer(): Promise<VideoBucketServer> {
    this.videoBucket ??= startLocalVideoBucket(this.options.videoDirectory);
    return this.videoBucket;
  }

  /** The video bucket as the Lambdas' port gives it (Archive writes it, the API signs links to it). */
  async videoBucketPort(): Promise<VideoBucket> {
    const server = await this.videoBucketServer();
    return { client: server.client, name: server.bucket };
  }

  /** Resolves when every status-change event so far has reached the rule's target (the ledger's backstop). */
  async statusChangesDelivered(): Promise<void> {
    await Promise.all([...this.deliveries]);
  }

  private deliver(delivery: Promise<void>): void {
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  async close(): Promise<void> {
    await (await this.callbackEndpoint)?.close();
    await this.statusChangesDelivered();
    await this.ledger.close();
    const bucket = await this.videoBucket;
    this.videoBucket = undefined;
    await bucket?.close();
  }
}
