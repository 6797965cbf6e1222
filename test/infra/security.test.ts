/**
 * Security checks on the synthesized stack: cdk-nag's AwsSolutions pack with no finding left
 * unacknowledged, https to Kling, no credential in the template, and every IAM statement
 * scoped to named resources but for the few actions AWS only grants on "*".
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { CALLBACK_ENV, ENV } from "#lambdas/common/settings";
import { LOCAL_CREDENTIAL_VARIABLES } from "#lambdas/common/credentials";
import { resolvePipelineConfig, type PipelineConfigInput } from "#lib/pipeline-config";
import { KlingPipelineStack } from "#lib/pipeline-stack";
import type { CloudFormationTemplate } from "#local/runner/definition";
import { logicalIdOf, synthesizePipeline } from "#local/runner/synthesize";
import { present } from "../support/present";

const IMPORTED_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kling-credentials-AbCdEf";

/** Every mode the stack synthesizes in: the default, and every option that changes resources. */
const CONFIGURATIONS: Record<string, PipelineConfigInput> = {
  default: {},
  "API key, schedule and an existing secret with its own KMS key": {
    apiAuthorization: "apiKey",
    batchSchedule: { expression: "rate(1 day)", batch: { batchId: "daily", items: [{ prompt: "a lighthouse" }] } },
    klingSecretArn: IMPORTED_SECRET_ARN,
    klingSecretKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    scheduledRedrive: { everyMinutes: 60, lookBackHours: 48 },
    requesterWebhookSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:requester-webhooks-AbCdEf",
  },
};

interface Synthesized {
  readonly stack: KlingPipelineStack;
  readonly template: CloudFormationTemplate;
  readonly violations: ReturnType<AwsSolutionsChecks["validateScope"]>["violations"];
}
const synthesized = new Map<string, Synthesized>();

beforeAll(() => {
  for (const [name, config] of Object.entries(CONFIGURATIONS)) {
    const { stack, template } = synthesizePipeline(config);
    // cdk-nag v3 is a policy validation plugin, not an aspect: it reports violations instead of
    // annotations. validateScope runs it on the synthesized tree, acknowledgements included.
    const { violations } = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
    synthesized.set(name, { stack, template, violations });
  }
});

function configuration(name: string): Synthesized {
  const found = synthesized.get(name);
  if (!found) throw new Error(`configuration ${name} was not synthesized`);
  return found;
}

const resourcesOfType = (template: CloudFormationTemplate, type: string) =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

describe.each(Object.keys(CONFIGURATIONS))("cdk-nag's AwsSolutions checks (%s)", (name) => {
  const findings = (severity: string) =>
    configuration(name)
      .violations.filter((violation) => violation.severity === severity)
      .map(
        (violation) =>
          `${violation.ruleName} on ${violation.violatingResources.map((resource) => resource.constructPath).join(", ")}: ${violation.description}`,
      );

  it("leaves no error unfixed or unacknowledged", () => {
    const errors = findings("error");
    expect(errors, `AwsSolutions errors:\n${errors.join("\n")}`).toEqual([]);
  });

  it("leaves no warning unfixed or unacknowledged", () => {
    const warnings = findings("warning");
    expect(warnings, `AwsSolutions warnings:\n${warnings.join("\n")}`).toEqual([]);
    expect(configuration(name).violations).toEqual([]);
  });

  it("acknowledges each finding on a resource, never on the stack, each with its own reason", () => {
    const { stack } = configuration(name);
    const acknowledged: { path: string; id: string; reason: string }[] = [];
    for (const construct of [stack.node.root, ...stack.node.root.node.findAll()]) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          acknowledged.push({ path: construct.node.path, id, reason });
        }
      }
    }
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { path, id, reason } of acknowledged) {
      expect(path, `${id} is acknowledged on the app or the whole stack`).not.toMatch(/^(KlingPipeline)?$/);
      expect(id).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(reason.length, `${id} on ${path} needs a specific reason`).toBeGreaterThanOrEqual(100);
    }
    // A blanket IAM5 would hide any wildcard: only the granular `IAM5[Resource::...]` form is used.
    expect(acknowledged.filter(({ id }) => /AwsSolutions-IAM5$/.test(id))).toEqual([]);
  });
});

describe("the Kling base URL", () => {
  const HTTPS_ONLY = /klingBaseUrl must be https: credentials travel in its Authorization header/;

  it("is refused when it is not https, from props or from the stack's context", () => {
    expect(() => resolvePipelineConfig({ klingBaseUrl: "http://api-singapore.klingai.com" })).toThrow(HTTPS_ONLY);
    const fromContext = new App({ context: { "aws:cdk:bundling-stacks": [], klingBaseUrl: "http://api-singapore.klingai.com" } });
    expect(() => new KlingPipelineStack(fromContext, "KlingPipeline")).toThrow(HTTPS_ONLY);
    expect(() => synthesizePipeline({ klingBaseUrl: "ftp://api-singapore.klingai.com" })).toThrow(HTTPS_ONLY);
  });

  it("is accepted when https, and defaults to Kling's https endpoint", () => {
    expect(resolvePipelineConfig({ klingBaseUrl: "https://api.klingai.com" }).klingBaseUrl).toBe("https://api.klingai.com");
    expect(resolvePipelineConfig().klingBaseUrl).toMatch(/^https:\/\//);
  });

  it("reaches every Lambda that calls Kling as https (locally the runner overrides the environment, not the config)", () => {
    const { template } = configuration("default");
    const urls = resourcesOfType(template, "AWS::Lambda::Function").flatMap(([, fn]) => {
      const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
      return variables?.[ENV.klingBaseUrl] === undefined ? [] : [variables[ENV.klingBaseUrl]];
    });
    // CheckCredits, Submit, Poll, Archive (which asks for the task's video), the batch's PriceBatch, and KlingCallback, which confirms a callback by query.
    expect(urls).toHaveLength(6);
    for (const url of urls) expect(url).toMatch(/^https:\/\//);
  });
});

const CREDENTIAL_NAME = /KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|AUTH|BEARER/i;
const CREDENTIAL_VALUE = /apiKey|accessKey|secretKey|Bearer|Authorization|eyJ[\w-]{10,}\.|sk-[\w-]{16,}/;

describe.each(Object.keys(CONFIGURATIONS))("no credential in the template (%s)", (name) => {
  it("gives the Lambdas the secret's ARN, and nothing else that looks like a key, secret or token", () => {
    const { stack, template } = configuration(name);
    const secretArn = stack.pipeline.config.klingSecretArn ?? { Ref: logicalIdOf(stack, stack.pipeline.secret) };
    const callbackSecret = stack.pipeline.callbacks?.secret;
    const functions = resourcesOfType(template, "AWS::Lambda::Function");
    expect(functions.length).toBeGreaterThan(0);
    const signingSecretArn =
      stack.pipeline.config.requesterWebhookSecretArn ??
      { Ref: logicalIdOf(stack, present(stack.pipeline.requesterNotifications.createdSecret, "the requester-webhook secret")) };
    let secretReferences = 0;
    const signingSecretReaders: string[] = [];
    for (const [id, fn] of functions) {
      const variables =
        (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      for (const [variable, value] of Object.entries(variables)) {
        if (variable === ENV.klingSecretArn) {
          expect(value, `${id}'s ${variable}`).toEqual(secretArn);
          secretReferences += 1;
          continue;
        }
        if (variable === CALLBACK_ENV.secretArn && callbackSecret) {
          expect(value, `${id}'s ${variable}`).toEqual({ Ref: logicalIdOf(stack, callbackSecret) });
          continue;
        }
        if (variable === ENV.requesterWebhookSecretArn) {
          expect(value, `${id}'s ${variable}`).toEqual(signingSecretArn);
          signingSecretReaders.push(id);
          continue;
        }
        expect(variable, `${id} has a variable named like a credential`).not.toMatch(CREDENTIAL_NAME);
        expect(JSON.stringify(value), `${id}'s ${variable} looks like a credential`).not.toMatch(CREDENTIAL_VALUE);
      }
    }
    expect(secretReferences).toBe(6);
    expect(signingSecretReaders).toEqual([logicalIdOf(stack, stack.pipeline.requesterNotifications.notifyFunction)]);
  });

  it("never names the local credential variables, nor holds a secret value", () => {
    const { template } = configuration(name);
    const text = JSON.stringify(template);
    for (const variable of Object.values(LOCAL_CREDENTIAL_VARIABLES)) expect(text).not.toContain(variable);
    for (const [id, secret] of resourcesOfType(template, "AWS::SecretsManager::Secret")) {
      expect(secret.Properties, `${id} holds its value in the template`).not.toHaveProperty("SecretString");
    }
  });

  it("keeps credentials out of both state machine definitions", () => {
    const { template } = configuration(name);
    const definitions = resourcesOfType(template, "AWS::StepFunctions::StateMachine");
    expect(definitions).toHaveLength(2);
    for (const [id, stateMachine] of definitions) {
      const definition = JSON.stringify(stateMachine.Properties?.DefinitionString);
      for (const word of ["apiKey", "accessKey", "secretKey", "Bearer", "Authorization", "SecretString"]) {
        expect(definition, `${id}'s definition mentions ${word}`).not.toContain(word);
      }
    }
  });
});

/**
 * Actions AWS grants on "*" only: X-Ray's, the vended log delivery Step Functions logs through,
 * and the callback answers AwaitRedrive's function sends (authorized by the task token).
 */
const WILDCARD_ONLY_ACTIONS = new Set([
  "states:SendTaskSuccess",
  "states:SendTaskFailure",
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
  "xray:GetSamplingRules",
  "xray:GetSamplingTargets",
  "logs:CreateLogDelivery",
  "logs:GetLogDelivery",
  "logs:UpdateLogDelivery",
  "logs:DeleteLogDelivery",
  "logs:ListLogDeliveries",
  "logs:PutResourcePolicy",
  "logs:DescribeResourcePolicies",
  "logs:DescribeLogGroups",
]);

interface PolicyStatementJson {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
}
interface PolicyDocumentJson {
  readonly Statement: PolicyStatementJson[];
}

interface FoundStatement {
  /** The policy's logical id, or `<role>/<policy name>` for a role's inline policy. */
  readonly where: string;
  /** The logical ids of the roles it applies to. */
  readonly roles: string[];
  readonly statement: PolicyStatementJson;
}

/** Every statement of every AWS::IAM::Policy, managed policy and role inline policy. */
function iamStatements(template: CloudFormationTemplate): FoundStatement[] {
  const found: FoundStatement[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const documents: { where: string; roles: string[]; document: PolicyDocumentJson }[] = [];
    if (resource.Type === "AWS::IAM::Policy" || resource.Type === "AWS::IAM::ManagedPolicy") {
      const roles = ((resource.Properties?.Roles ?? []) as { Ref?: string }[]).flatMap((role) => role.Ref ?? []);
      documents.push({ where: id, roles, document: resource.Properties?.PolicyDocument as PolicyDocumentJson });
    }
    if (resource.Type === "AWS::IAM::Role") {
      const inline = (resource.Properties?.Policies ?? []) as { PolicyName: string; PolicyDocument: PolicyDocumentJson }[];
      for (const policy of inline) {
        documents.push({ where: `${id}/${policy.PolicyName}`, roles: [id], document: policy.PolicyDocument });
      }
    }
    for (const { where, roles, document } of documents) {
      for (const statement of document.Statement) found.push({ where, roles, statement });
    }
  }
  return found;
}

/** A resource names something: a reference to a resource of the template, or an ARN with a fixed name. */
function namesResource(template: CloudFormationTemplate, resource: unknown): boolean {
  const text = JSON.stringify(resource);
  const references = [...text.matchAll(/"(?:Ref|Fn::GetAtt)":\s*(?:"|\[")([A-Za-z0-9]+)"/g)].map((match) => match[1] ?? "");
  if (references.some((id) => id in template.Resources)) return true;
  // An ARN built from the partition, region and account only: its literal name must be whole.
  const literal = typeof resource === "string" ? resource : text;
  const lastPart = literal.split(/[:/]/).at(-1) ?? "";
  return /arn:/.test(literal) && lastPart.length > 0 && !lastPart.includes("*");
}

describe.each(Object.keys(CONFIGURATIONS))("IAM (%s)", (name) => {
  it("scopes every statement to named resources, but for the actions AWS only grants on '*'", () => {
    const { template } = configuration(name);
    const statements = iamStatements(template);
    expect(statements.length).toBeGreaterThan(0);
    const listing = statements
      .map(({ where, statement }) => `${where}: ${JSON.stringify(statement.Action)} on ${JSON.stringify(statement.Resource)}`)
      .join("\n");
    const problems: string[] = [];
    for (const { where, statement } of statements) {
      const actions = [statement.Action ?? []].flat();
      const resources = [statement.Resource ?? []].flat();
      const label = `${where}: ${JSON.stringify(actions)} on ${JSON.stringify(statement.Resource)}`;
      if (statement.Effect !== "Allow") problems.push(`${label} is not an Allow`);
      if (statement.NotAction !== undefined || statement.NotResource !== undefined) problems.push(`${label} uses Not*`);
      if (actions.length === 0 || resources.length === 0) problems.push(`${label} has no action or no resource`);
      if (actions.some((action) => action === "*" || action.endsWith(":*"))) problems.push(`${label} allows a whole service`);
      for (const resource of resources) {
        if (resource === "*") {
          const notAllowed = actions.filter((action) => !WILDCARD_ONLY_ACTIONS.has(action));
          if (notAllowed.length > 0) problems.push(`${label} grants ${notAllowed.join(", ")} on "*"`);
        } else if (!namesResource(template, resource)) {
          problems.push(`${where}: ${JSON.stringify(resource)} names no resource`);
        }
      }
    }
    expect(problems, `${problems.join("\n")}\n\nEvery statement:\n${listing}`).toEqual([]);
  });

  it("attaches no AWS managed policy but API Gateway's logging role's", () => {
    const { stack, template } = configuration(name);
    const cloudWatchRole = present(stack.pipeline.api, "the API").restApi.node.findChild("CloudWatchRole");
    const managed = resourcesOfType(template, "AWS::IAM::Role").flatMap(([id, role]) =>
      ((role.Properties?.ManagedPolicyArns ?? []) as unknown[]).map((arn) => ({ id, arn: JSON.stringify(arn) })),
    );
    expect(managed).toEqual([
      { id: logicalIdOf(stack, cloudWatchRole), arn: expect.stringContaining("AmazonAPIGatewayPushToCloudWatchLogs") },
    ]);
  });

  it("lets each Lambda write its own log group only", () => {
    const { stack, template } = configuration(name);
    const functions = [
      ...Object.values(stack.pipeline.functions),
      ...Object.values(stack.pipeline.batchFunctions),
      present(stack.pipeline.apiFunction, "the API's function"),
    ];
    for (const fn of functions) {
      const logStatements = iamStatements(template).filter(
        ({ roles, statement }) =>
          roles.includes(logicalIdOf(stack, fn.role ?? fn)) &&
          [statement.Action ?? []].flat().some((action) => action.startsWith("logs:")),
      );
      expect(logStatements.map(({ statement }) => statement)).toEqual([
        {
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: { "Fn::GetAtt": [logicalIdOf(stack, fn.logGroup), "Arn"] },
        },
      ]);
    }
  });
});
