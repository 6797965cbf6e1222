/**
 * The simulator is an independent oracle (issue 26, item 6): it may name the pipeline's types but
 * never use its values (tables, prices, constants), or a mistake in them would be shared by both
 * sides and never caught. Every import from lambdas/ in local/simulator must be `import type`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SIMULATOR = join(ROOT, "local", "simulator");
const LAMBDAS = join(ROOT, "lambdas");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Each import or re-export statement of a file with the module it names (across lines), and dynamic imports. */
function importsOf(source: string): { statement: string; specifier: string }[] {
  const statements = [...source.matchAll(/^\s*(import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gms)].map((match) => ({
    statement: match[0].trim(),
    specifier: match[2] ?? "",
  }));
  const sideEffects = [...source.matchAll(/^\s*import\s*["']([^"']+)["']/gm)].map((match) => ({ statement: match[0].trim(), specifier: match[1] ?? "" }));
  const dynamic = [...source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((match) => ({ statement: match[0], specifier: match[1] ?? "" }));
  return [...statements, ...sideEffects, ...dynamic];
}

function isInLambdas(file: string, specifier: string): boolean {
  if (specifier.startsWith("#lambdas/")) return true;
  if (!specifier.startsWith(".")) return false;
  return !relative(LAMBDAS, resolve(dirname(file), specifier)).startsWith("..");
}

/** Value imports from lambdas/ in these files: every statement not written `import type` / `export type`. */
function valueImports(files: readonly string[]): string[] {
  return files.flatMap((file) =>
    importsOf(readFileSync(file, "utf8"))
      .filter(({ specifier }) => isInLambdas(file, specifier))
      .filter(({ statement }) => !/^(import|export)\s+type\b/.test(statement))
      .map(({ statement }) => `${relative(ROOT, file)}: ${statement.replace(/\s+/g, " ")}`),
  );
}

describe("the simulator's independence from the pipeline", () => {
  it("imports only types from lambdas/ (its rules, models and prices are its own)", () => {
    const files = sourceFiles(SIMULATOR);
    expect(files.length).toBeGreaterThan(20);
    expect(valueImports(files)).toEqual([]);
  });

  it("the check catches a value import, an inline `type` that still imports the module, a relative path and a re-export", () => {
    const file = join(SIMULATOR, "example.ts");
    const check = (source: string) =>
      importsOf(source)
        .filter(({ specifier }) => isInLambdas(file, specifier))
        .filter(({ statement }) => !/^(import|export)\s+type\b/.test(statement)).length;
    expect(check('import { priceUnits } from "#lambdas/schemas/pricing";')).toBe(1);
    expect(check('import {\n  type Task,\n  TASK_KINDS,\n} from "#lambdas/kling/wire";')).toBe(1);
    expect(check('import { type Task } from "../../lambdas/kling/wire";')).toBe(1);
    expect(check('export { CAMERA_AXES } from "#lambdas/kling/wire";')).toBe(1);
    expect(check('const m = await import("#lambdas/kling/wire");')).toBe(1);
    expect(check('import type { Task } from "#lambdas/kling/wire";\nimport { isRecord } from "./json";')).toBe(0);
  });
});
