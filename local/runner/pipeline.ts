/**
 * The pipeline on one machine: the stack synthesized in-process, its generation state machine
 * taken from the template and run by the local engine, every Lambda the real handler code.
 */
import { useClock } from "../../lambdas/common/clock";
import { ENV } from "../../lambdas/common/config";
import type { PipelineConfigInput } from "../../lib/pipeline-config";
import type { PipelineFunctionName } from "../../lib/pipeline-function";
import { type CloudFormationTemplate, definitionFromTemplate, localArn } from "./definition";
import { LOCAL_HANDLERS } from "./handlers";
import { invokeLikeLambda } from "./lambda-binding";
import { type EngineEvent, type ExecutionReport, LocalStateMachine } from "./local-engine";
import type { ScaledClock } from "./scaled-clock";
import { logicalIdOf, synthesizePipeline } from "./synthesize";

export interface LocalPipelineOptions {
  /** Where the Lambdas reach Kling: the simulator, or the real service. */
  readonly klingBaseUrl: string;
  readonly clock: ScaledClock;
  readonly config?: PipelineConfigInput;
}

/**
 * The Lambdas' environment as the template sets it, with Kling's URL pointed where this run
 * wants it and no secret ARN: locally the credentials come from the environment.
 */
function applyFunctionEnvironment(template: CloudFormationTemplate, functionIds: readonly string[], klingBaseUrl: string) {
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
  Object.assign(process.env, merged, { [ENV.klingBaseUrl]: klingBaseUrl });
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
      options.klingBaseUrl,
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

  runGeneration(request: unknown, executionName: string, onEvent?: (event: EngineEvent) => void): Promise<ExecutionReport> {
    return this.generation.run(request, executionName, onEvent);
  }

  close(): void {
    this.restoreClock();
  }
}
