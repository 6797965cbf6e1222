/**
 * What the local pipeline takes from a synthesized stack, as plain data: the template, which
 * resource each local function and state machine is, and the two settings it reads from the
 * resolved configuration. Being data, it can be kept between commands (plan-cache.ts), so a run
 * on an unchanged stack neither loads the CDK nor synthesizes.
 */
import type { CloudFormationTemplate } from "./definition";
import type { LocalFunctionName } from "./handlers";

export interface LocalPlan {
  readonly template: CloudFormationTemplate;
  /** Each local function's logical id in the template. */
  readonly functionIds: Readonly<Partial<Record<LocalFunctionName, string>>>;
  /** The callback route's function, with callbacks on. */
  readonly callbackFunctionId?: string;
  readonly generationStateMachineId: string;
  readonly batchStateMachineId: string;
  /** The configuration's batchRequestSource: the events the batch rule starts a batch for. */
  readonly batchRequestSource: string;
  /** The configuration's videoArchive.linkSeconds: how long the API's video links live. */
  readonly videoLinkSeconds: number;
}
