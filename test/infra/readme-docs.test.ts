/** The README's diagrams and error table are generated from the code; they must not drift. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readmeBlocks } from "#local/docs/readme-blocks";
import { mermaidDiagram, updateGeneratedBlocks } from "#local/docs/readme-sections";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("the README", () => {
  it("shows the state machines and the error table exactly as the code defines them (npm run docs)", () => {
    expect(updateGeneratedBlocks(readme, readmeBlocks())).toBe(readme);
  });

  it("rewrites only the named block, whatever command its marker names, and refuses a block it lacks", () => {
    const text = ["a", "<!-- BEGIN generated: bench (npm run bench -- --readme) -->", "old", "<!-- END generated -->", "b"].join("\n");
    expect(updateGeneratedBlocks(text, { bench: "new" })).toBe(text.replace("old", "new"));
    expect(() => updateGeneratedBlocks(text, { runbook: "x" })).toThrow('the README has no generated block "runbook"');
  });

  it("draws every transition and every Catch of a definition", () => {
    const diagram = mermaidDiagram({
      StartAt: "A",
      States: {
        A: { Type: "Task", Next: "B?", Catch: [{ ErrorEquals: ["States.ALL"], Next: "F" }] },
        "B?": { Type: "Choice", Choices: [{ Variable: "$.x", StringEquals: "y", Next: "Done" }], Default: "A" },
        Done: { Type: "Succeed" },
        F: { Type: "Fail" },
      },
    });
    expect(diagram).toContain("A --> B_");
    expect(diagram).toContain('A -. "States.ALL" .-> F');
    expect(diagram).toContain('B_ -- "x = y" --> Done');
    expect(diagram).toContain("B_ -- otherwise --> A");
  });
});
