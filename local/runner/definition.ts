/**
 * Takes a state machine's definition out of a synthesized CloudFormation template: the
 * `DefinitionString` is an `Fn::Join` of strings and references, resolved here to the values
 * the local engine needs, then parsed. Never a hand-written copy of the definition.
 */

export const LOCAL_REGION = "us-east-1";
export const LOCAL_ACCOUNT = "123456789012";

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
export interface CloudFormationTemplate {
  readonly Resources: Record<string, TemplateResource>;
}

/** The ARN a resource stands for locally: enough for the engine to validate and for us to map back. */
export function localArn(template: CloudFormationTemplate, logicalId: string): string {
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`the template has no resource ${logicalId}`);
  switch (resource.Type) {
    case "AWS::Lambda::Function":
      return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${logicalId}`;
    case "AWS::StepFunctions::StateMachine":
      return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${logicalId}`;
    default:
      throw new Error(`cannot resolve a local ARN for ${logicalId} of type ${resource.Type}`);
  }
}

function resolve(template: CloudFormationTemplate, value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    if ("Ref" in value) {
      switch (value.Ref) {
        case "AWS::Partition":
          return "aws";
        case "AWS::Region":
          return LOCAL_REGION;
        case "AWS::AccountId":
          return LOCAL_ACCOUNT;
        case "AWS::URLSuffix":
          return "amazonaws.com";
        default:
          if (typeof value.Ref === "string" && template.Resources[value.Ref]?.Type === "AWS::StepFunctions::StateMachine") {
            return localArn(template, value.Ref);
          }
      }
    }
    if ("Fn::GetAtt" in value && Array.isArray(value["Fn::GetAtt"])) {
      const [logicalId, attribute] = value["Fn::GetAtt"] as [string, string];
      if (attribute === "Arn") return localArn(template, logicalId);
      if (attribute === "Name") return logicalId;
    }
    if ("Fn::Join" in value && Array.isArray(value["Fn::Join"])) {
      const [separator, parts] = value["Fn::Join"] as [string, unknown[]];
      return parts.map((part) => resolve(template, part)).join(separator);
    }
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)} in a state machine definition`);
}

export interface StateMachineDefinition {
  readonly StartAt: string;
  readonly States: Record<string, Record<string, unknown>>;
  readonly TimeoutSeconds?: number;
  readonly Comment?: string;
}

/** The parsed definition of the state machine with this logical id. */
export function definitionFromTemplate(template: CloudFormationTemplate, logicalId: string): StateMachineDefinition {
  const resource = template.Resources[logicalId];
  if (resource?.Type !== "AWS::StepFunctions::StateMachine") {
    throw new Error(`${logicalId} is not a state machine in the template`);
  }
  const text = resolve(template, resource.Properties?.DefinitionString);
  return JSON.parse(text) as StateMachineDefinition;
}
