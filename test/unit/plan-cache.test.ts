import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cachedPlan, PLAN_SOURCES, planKey } from "#local/runner/plan-cache";
import { synthesizedPlan } from "#local/runner/synthesize";

const scratch = mkdtempSync(join(tmpdir(), "plan-cache-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A repository of the plan's sources, one small file each, to change one at a time. */
function sourceTree(): string {
  const root = mkdtempSync(join(scratch, "repo-"));
  for (const source of PLAN_SOURCES) {
    const file = source.includes(".") ? join(root, source) : join(root, source, "nested", "module.ts");
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `// ${source}\n`);
  }
  return root;
}

describe("the kept plan's key", () => {
  it("is the same for the same configuration and sources, and changes with the configuration", () => {
    const root = sourceTree();
    expect(planKey({}, root)).toBe(planKey({}, root));
    expect(planKey({ klingConcurrency: 3 }, root)).not.toBe(planKey({}, root));
  });

  it.each(PLAN_SOURCES)("changes when a file of %s changes, however deep", (source) => {
    const root = sourceTree();
    const before = planKey({}, root);
    const file = source.includes(".") ? join(root, source) : join(root, source, "nested", "module.ts");
    writeFileSync(file, "// changed\n");
    expect(planKey({}, root)).not.toBe(before);
  });

  it("changes when a file is added to lib/ or lambdas/", () => {
    const root = sourceTree();
    const before = planKey({}, root);
    writeFileSync(join(root, "lambdas", "added.ts"), "export {};\n");
    expect(planKey({}, root)).not.toBe(before);
  });
});

describe("a plan kept between commands", () => {
  const config = { klingConcurrency: 2 };
  const fresh = synthesizedPlan(config);

  it("is synthesized and kept on the first run, read back unchanged on the next, and is what synthesis gives", async () => {
    const directory = join(scratch, "first");
    const first = await cachedPlan(config, directory);
    expect(first).toEqual(fresh);
    const [file] = readdirSync(directory);
    expect(file).toBe(`plan-${planKey(config)}.json`);
    const writtenAt = statSync(join(directory, file ?? "")).mtimeMs;
    expect(await cachedPlan(config, directory)).toEqual(fresh);
    // Read, not written again.
    expect(statSync(join(directory, file ?? "")).mtimeMs).toBe(writtenAt);
  }, 60_000);

  it("is synthesized again when the kept file is damaged, and a plan of other sources is removed", async () => {
    const directory = join(scratch, "damaged");
    mkdirSync(directory, { recursive: true });
    const name = `plan-${planKey(config)}.json`;
    writeFileSync(join(directory, name), '{"template": {"Resources": {}}, "functionIds": ');
    const stale = `plan-${"0".repeat(64)}.json`;
    writeFileSync(join(directory, stale), "{}");
    expect(await cachedPlan(config, directory)).toEqual(fresh);
    expect(readdirSync(directory)).toEqual([name]);
    expect(JSON.parse(readFileSync(join(directory, name), "utf8"))).toEqual(fresh);
  }, 60_000);

  it("is another plan for another configuration", async () => {
    const directory = join(scratch, "other");
    const other = await cachedPlan({ callbacks: { enabled: false } }, directory);
    expect(other.callbackFunctionId).toBeUndefined();
    expect(fresh.callbackFunctionId).toEqual(expect.any(String));
  }, 60_000);
});
