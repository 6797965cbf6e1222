/**
 * The pipeline on one machine: the stack synthesized in-process, its generation state machine
 * taken from the template and run by the local engine, every Lambda the real handler code.
 */
import { useClock } from "../../lambdas/common/clock";
import { ENV } from "../../lambdas/common/config";
import { LOCAL_CREDENTIAL_VARIABLES } from "../../lambdas/common/credentials";
import type { KlingCredentials } from "../../lambdas/kling/port";
import type { PipelineConfigInput } from "../../lib/pipeline-config";
import type { PipelineFunctionName } from "../../lib/pipeline-function";
import { type CloudFormationTemplate, definitionFromTemplate, localArn } from "./definition";
import { LOCAL_HANDLERS } from "./handlers";
import { invokeLikeLambda } from "./lambda-binding";
import { type EngineEvent, type ExecutionReport, LocalStateMachine } from "./local-engine";
import type { ScaledClock } from "./scaled-clock";
import { logicalIdOf, synthesizePipeline } from "./synthesize";

export interface LocalPipelineOptions {
  readonly clock: ScaledClock;
  readonly config?: PipelineConfigInput;
}

/**
 * The Lambdas' environment as the template sets it, but for Kling's URL and the secret ARN:
 * locally {@link LocalPipeline.connect} decides where Kling is and puts the credentials in
 * the environment.
 */
function applyFunctionEnvironment(template: CloudFormationTemplate, functionIds: readonly string[]) {
  const merged: Record<string, string> = {};
  for (const id of functionIds) {
    const variables = (template.Resources[id]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables;
    for (const [name, value] of Object.entries(variables ?? {})) {
      if (name === ENV.klingSecretArn || name === ENV.klingBaseUrl || name.startsWith("AWS_")) continue;
      if (typeof value !== "string") throw new Error(`cannot run ${id} locally: ${name} is not a plain string`);
      if (merged[name] !== undefined && merged[name] !== value) {
        throw new Error(`cannot run the functions in one process: they set ${name} differently`);
      }
      merged[name] = value;
    }
  }
  Object.assign(process.env, merged);
  delete process.env[ENV.klingSecretArn];
}

export class LocalPipeline {
  readonly generation: LocalStateMachine;
  private readonly restoreClock: () => void;

  constructor(readonly options: LocalPipelineOptions) {
    const { stack, template } = synthesizePipeline(options.config);
    const handlerByArn = new Map<string, PipelineFunctionName>();
    for (const [name, fn] of Object.entries(stack.functions)) {
      handlerByArn.set(localArn(template, logicalIdOf(stack, fn)), name as PipelineFunctionName);
    }
    applyFunctionEnvironment(
      template,
      [...handlerByArn.keys()].map((arn) => arn.split(":").at(-1) ?? ""),
    );
    this.restoreClock = useClock(options.clock);

    const generationId = logicalIdOf(stack, stack.generation.stateMachine);
    this.generation = new LocalStateMachine({
      definition: definitionFromTemplate(template, generationId),
      stateMachineArn: localArn(template, generationId),
      clock: options.clock,
      bindTask: (_stateName, state) => {
        if (state.Resource !== "arn:aws:states:::lambda:invoke") return undefined;
        const functionArn = (state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName;
        const name = typeof functionArn === "string" ? handlerByArn.get(functionArn) : undefined;
        if (!name) return undefined;
        const handler = LOCAL_HANDLERS[name];
        return (input) => invokeLikeLambda(handler, input);
      },
    });
  }

  /** Points the Lambdas at a Kling endpoint (the simulator or the real one) with these credentials. */
  connect(baseUrl: string, credentials: KlingCredentials): void {
    process.env[ENV.klingBaseUrl] = baseUrl;
    for (const name of Object.values(LOCAL_CREDENTIAL_VARIABLES)) delete process.env[name];
    if ("apiKey" in credentials) {
      process.env[LOCAL_CREDENTIAL_VARIABLES.apiKey] = credentials.apiKey;
    } else {
      process.env[LOCAL_CREDENTIAL_VARIABLES.accessKey] = credentials.accessKey;
      process.env[LOCAL_CREDENTIAL_VARIABLES.secretKey] = credentials.secretKey;
    }
  }

  runGeneration(request: unknown, executionName: string, onEvent?: (event: EngineEvent) => void): Promise<ExecutionReport> {
    return this.generation.run(request, executionName, onEvent);
  }

  close(): void {
    this.restoreClock();
  }
}
