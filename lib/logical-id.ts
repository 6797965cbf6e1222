import { CfnElement, type Stack } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/** The logical id CloudFormation knows a construct (or a CloudFormation element) by. */
export function logicalIdOf(stack: Stack, construct: IConstruct): string {
  const element = construct instanceof CfnElement ? construct : construct.node.defaultChild;
  if (!(element instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return stack.resolve(stack.getLogicalId(element)) as string;
}
