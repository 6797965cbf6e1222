/**
 * The local pipeline's plan, kept between commands: synthesizing the stack (and loading the CDK
 * to do it) is most of a local command's start-up, and it gives the same template as long as the
 * configuration and the code it is made from are the same. The plan is kept under a key that is
 * a hash of both (every file of lib/ and lambdas/, the two runner files that make the plan, the
 * lockfile), so any change to them synthesizes again.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod";
import type { PipelineConfigInput } from "#lib/pipeline-config";
import type { LocalPlan } from "./local-plan";

const REPOSITORY = fileURLToPath(new URL("../..", import.meta.url));

/** What the synthesized template is made from: a change to any of these makes a new key. */
export const PLAN_SOURCES = ["lib", "lambdas", "local/runner/synthesize.ts", "local/runner/local-plan.ts", "package-lock.json"];

const PLAN_FILE = /^plan-[0-9a-f]{64}\.json$/;

/** A kept plan is read back as the plan it was written as; anything else is synthesized again. */
const keptPlanSchema = z.object({
  template: z.object({ Resources: z.record(z.string(), z.object({ Type: z.string() }).loose()) }).loose(),
  functionIds: z.record(z.string(), z.string()),
  callbackFunctionId: z.string().optional(),
  generationStateMachineId: z.string(),
  batchStateMachineId: z.string(),
  batchRequestSource: z.string(),
  videoLinkSeconds: z.number(),
});

function filesUnder(path: string): string[] {
  const entries = readdirSync(path, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** The hash of the configuration and of every file the template is made from (in `repository`: this one's). */
export function planKey(config: PipelineConfigInput, repository: string = REPOSITORY): string {
  const hash = createHash("sha256").update(JSON.stringify(config));
  const files = PLAN_SOURCES.flatMap((source) => {
    const path = join(repository, source);
    return source.includes(".") ? [path] : filesUnder(path);
  }).sort();
  for (const file of files) hash.update(`\0${relative(repository, file)}\0`).update(readFileSync(file));
  return hash.digest("hex");
}

function readKept(file: string): LocalPlan | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const kept = keptPlanSchema.safeParse(JSON.parse(text));
    return kept.success ? (kept.data as LocalPlan) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The plan for `config`: the one kept in `directory` under the current key, or a newly
 * synthesized one, kept there (older plans removed) for the next command.
 */
export async function cachedPlan(config: PipelineConfigInput, directory: string): Promise<LocalPlan> {
  const name = `plan-${planKey(config)}.json`;
  const file = join(directory, name);
  const kept = readKept(file);
  if (kept) return kept;
  // Only now: loading the CDK is a good part of what the kept plan saves.
  const { synthesizedPlan } = await import("./synthesize");
  const plan = synthesizedPlan(config);
  mkdirSync(directory, { recursive: true });
  // Written whole and renamed, so a command running beside this one never reads half of it.
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(plan));
  renameSync(temporary, file);
  for (const other of readdirSync(directory)) if (PLAN_FILE.test(other) && other !== name) rmSync(join(directory, other), { force: true });
  return plan;
}
