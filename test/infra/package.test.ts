/**
 * The package as another CDK app gets it: `npm pack` (which builds dist/ first), unpacked where
 * npm would install it, with the app's own dependencies beside it. The app type-checks its
 * import of KlingVideoPipeline, declarations included, and synthesizes a
 * stack with it, bundling every Lambda from the installed package's lambdas/. (Under `nodenext`
 * only: what resolves there resolves under `bundler` too, and each check costs seconds.)
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PROJECT_MODULES = path.join(PROJECT_ROOT, "node_modules");
let work: string;
let app: string;

const APP_TS = `import { App, Stack } from "aws-cdk-lib";
import { KlingVideoPipeline, type KlingVideoPipelineProps, type PipelineConfigInput } from "kling-pipeline";

const config: PipelineConfigInput = { klingConcurrency: 3 };
const props: KlingVideoPipelineProps = { ...config, batchRule: false };
const stack = new Stack(new App(), "Videos");
const pipeline: KlingVideoPipeline = new KlingVideoPipeline(stack, "Pipeline", props);
export const arn: string = pipeline.generation.stateMachine.stateMachineArn;
`;

/** Synthesizes the app (bundling included) and prints what the test checks, as JSON. */
const SYNTH_MJS = `import { readFileSync } from "node:fs";
import { App, Stack } from "aws-cdk-lib";
import { KlingVideoPipeline } from "kling-pipeline";
const app = new App({ outdir: "cdk.out" });
new KlingVideoPipeline(new Stack(app, "Videos"), "Pipeline");
const stack = app.synth().getStackByName("Videos");
const resources = Object.values(stack.template.Resources);
const manifest = JSON.parse(readFileSync("cdk.out/Videos.assets.json", "utf8"));
const assets = Object.values(manifest.files).filter((file) => file.source.packaging === "zip").map((file) => file.source.path);
console.log(JSON.stringify({
  functions: resources.filter((r) => r.Type === "AWS::Lambda::Function").length,
  stateMachines: resources.filter((r) => r.Type === "AWS::StepFunctions::StateMachine").length,
  assets,
}));
`;

/** Runs a command; a failure carries what it printed, which is what a failing test needs to show. */
function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout ?? ""}${stderr ?? ""}`);
  }
}

/** Links a package of this project's node_modules into the app's, as npm would have installed it. */
function linkDependency(modules: string, name: string): void {
  mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
  symlinkSync(path.join(PROJECT_MODULES, name), path.join(modules, name));
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "kling-pipeline-package-"));
  const tarball = run("npm", ["pack", "--pack-destination", work, "--silent"], PROJECT_ROOT).trim().split("\n").at(-1) ?? "";
  app = path.join(work, "app");
  const modules = path.join(app, "node_modules");
  mkdirSync(modules, { recursive: true });
  run("tar", ["-xzf", path.join(work, tarball), "-C", modules], work);
  const installed = path.join(modules, "kling-pipeline");
  rmSync(installed, { recursive: true, force: true });
  run("mv", [path.join(modules, "package"), installed], work);

  const manifest = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
  };
  // The app's side: the package's dependencies and peers (esbuild, optional, bundles locally), and Node's types.
  for (const name of [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies), "@types/node"]) {
    linkDependency(modules, name);
  }
  mkdirSync(path.join(modules, ".bin"));
  symlinkSync(path.join("..", "esbuild", "bin", "esbuild"), path.join(modules, ".bin", "esbuild"));
  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "videos-app", type: "module", private: true }));
  // An app has a lock file of its own; bundling runs from where it is.
  writeFileSync(path.join(app, "package-lock.json"), JSON.stringify({ name: "videos-app", lockfileVersion: 3, requires: true, packages: {} }));
  writeFileSync(path.join(app, "app.ts"), APP_TS);
  writeFileSync(path.join(app, "synth.mjs"), SYNTH_MJS);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed kling-pipeline in another CDK app", () => {
  it("ships the built construct, its declarations, the Lambda sources and the MIT license package.json names, not the tests or local tools", () => {
    const installed = path.join(app, "node_modules", "kling-pipeline");
    const top = readdirSync(installed).sort();
    expect(top).toEqual(["LICENSE", "README.md", "dist", "lambdas", "package.json"]);
    expect(readFileSync(path.join(installed, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) 2026 kling-pipeline contributors\n/);
    expect(readdirSync(path.join(installed, "dist")).sort()).toEqual(["index.js", "types"]);
    expect(readdirSync(path.join(installed, "lambdas", "submit"))).toContain("handler.ts");
  });

  it("type-checks an import of KlingVideoPipeline under nodenext resolution, as `cdk init` sets it up", () => {
    // skipLibCheck stays off: it would hide a declaration whose imports do not resolve.
    const compilerOptions = { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "ES2023", noEmit: true, types: ["node"] };
    writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["app.ts"] }));
    expect(run(path.join(PROJECT_MODULES, ".bin", "tsc"), ["-p", "."], app)).toBe("");
  });

  it("synthesizes a stack with the construct, bundling every Lambda from the installed package", () => {
    const synthesized = JSON.parse(run(process.execPath, ["synth.mjs"], app).trim().split("\n").at(-1) ?? "{}") as {
      functions: number;
      stateMachines: number;
      assets: string[];
    };
    expect(synthesized.stateMachines).toBe(2);
    expect(synthesized.functions).toBeGreaterThanOrEqual(8);
    expect(synthesized.assets.length).toBeGreaterThanOrEqual(8);
    for (const asset of synthesized.assets) {
      expect(readdirSync(path.join(app, "cdk.out", asset))).toContain("index.mjs");
    }
    // esbuild bundles every one of the construct's Lambdas (Archive's among them): more than the default 30 s on 2 busy cores.
  }, 120_000);
});
