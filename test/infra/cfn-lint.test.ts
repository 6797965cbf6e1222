/**
 * The synthesized template passes cfn-lint, AWS's CloudFormation linter, in every mode the stack
 * synthesizes in: no error at all, and no warning but the one CDK itself causes (below). The
 * machines this project is built on have cfn-lint; where it is missing the test says it skipped.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as z from "zod";
import type { PipelineConfigInput } from "#lib/pipeline-config";
import { synthesizePipeline } from "#local/runner/synthesize";

/** Every option that adds or changes resources, on at once. */
const CONFIGURATIONS: Record<string, PipelineConfigInput> = {
  default: {},
  "everything configured": {
    apiAuthorization: "apiKey",
    batchSchedule: { expression: "rate(1 day)", batch: { batchId: "daily", items: [{ prompt: "a lighthouse" }] } },
    klingSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kling-credentials-AbCdEf",
    klingSecretKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    scheduledRedrive: { everyMinutes: 60, lookBackHours: 48 },
    requesterWebhookSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:requester-webhooks-AbCdEf",
    videoArchive: { transition: { storageClass: "GLACIER_IR", afterDays: 90 }, expireAfterDays: 365 },
  },
};

/**
 * The warnings accepted, each for its reason; any other warning fails the test like an error.
 * W3005 (a DependsOn that a Ref or GetAtt already implies): CDK adds a DependsOn on a function's
 * role (and its default policy) to every Lambda function and state machine so that the policy is
 * attached before the resource is created; the role's own GetAtt makes the role half redundant,
 * the policy half is not. It is CDK's template, not ours, and harmless.
 */
const ACCEPTED_WARNINGS: ReadonlySet<string> = new Set(["W3005"]);

const matchSchema = z.object({
  Level: z.enum(["Error", "Warning", "Informational"]),
  Message: z.string(),
  Rule: z.object({ Id: z.string() }),
  Location: z.object({ Path: z.array(z.union([z.string(), z.number()])) }),
});

const installed = spawnSync("cfn-lint", ["--version"], { encoding: "utf8" });
const cfnLintVersion = installed.status === 0 ? installed.stdout.trim() : undefined;
const skipReason = "cfn-lint is not installed here (pip install cfn-lint): the template was not linted";

const directory = mkdtempSync(join(tmpdir(), "kling-cfn-lint-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe(`the synthesized template under cfn-lint (${cfnLintVersion ?? "not installed"})`, () => {
  it("has no error and no warning but CDK's own DependsOn, in every mode", { timeout: 240_000 }, (context) => {
    if (!cfnLintVersion) {
      // Said twice: on stderr, which every reporter shows, and as the skip's note.
      process.stderr.write(`test/infra/cfn-lint.test.ts skipped: ${skipReason}\n`);
      context.skip(skipReason);
      return;
    }
    const files = Object.entries(CONFIGURATIONS).map(([name, config], index) => {
      const file = join(directory, `template-${index}.json`);
      writeFileSync(file, JSON.stringify(synthesizePipeline(config).template, null, 1));
      return { name, file };
    });
    const run = spawnSync("cfn-lint", ["--format", "json", "--", ...files.map(({ file }) => file)], { encoding: "utf8" });
    // Its exit status is a bit mask of the levels found (2 errors, 4 warnings, 8 informational); 1 is a failure of its own.
    expect(run.status === 1 || run.error !== undefined, `cfn-lint did not run: ${run.stderr}${run.error?.message ?? ""}`).toBe(false);
    const matches = z.array(matchSchema.extend({ Filename: z.string() })).parse(JSON.parse(run.stdout || "[]"));
    const refused = matches
      .filter((match) => match.Level === "Error" || (match.Level === "Warning" && !ACCEPTED_WARNINGS.has(match.Rule.Id)))
      .map((match) => `${files.find(({ file }) => file === match.Filename)?.name}: ${match.Rule.Id} ${match.Location.Path.join("/")}: ${match.Message}`);
    expect(refused).toEqual([]);
  });
});
