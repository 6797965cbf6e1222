import { describe, expect, it } from "vitest";
import { runSteps } from "#local/console/run-steps";
import { stateMachineSvg, transitionsOf } from "#local/console/state-graph";
import { definitionFromTemplate } from "#local/runner/definition";
import type { EngineEvent } from "#local/runner/local-engine";
import { synthesizedPlan } from "#local/runner/synthesize";

const plan = synthesizedPlan();
const definition = definitionFromTemplate(plan.template, plan.generationStateMachineId);

describe("the console's drawing of the state machine", () => {
  it("has every transition of the synthesized definition: Next, a Choice's branches and Default, a Catch marked as caught", () => {
    const transitions = transitionsOf(definition);
    expect(transitions).toContainEqual({ from: "Validate", to: "CheckCredits", caught: false });
    expect(transitions).toContainEqual({ from: "Submit", to: "ReleaseSlot", caught: true });
    expect(transitions).toContainEqual({ from: "Recoverable?", to: "AwaitRedrive", caught: false });
    expect(transitions).toContainEqual({ from: "Recoverable?", to: "Failed", caught: false });
    // Every state but the first is reached by some transition.
    const reached = new Set(transitions.map((transition) => transition.to));
    for (const name of Object.keys(definition.States)) if (name !== definition.StartAt) expect(reached).toContain(name);
  });

  it("draws one box per state and one arrow per transition, each named for the page to mark", () => {
    const svg = stateMachineSvg(definition);
    const states = [...svg.matchAll(/<g class="state [a-z]+" data-state="([^"]+)">/g)].map((match) => match[1]);
    expect(states.sort()).toEqual(Object.keys(definition.States).sort());
    expect(svg.match(/<path class="transition/g)).toHaveLength(transitionsOf(definition).length);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });
});

describe("an execution's steps, as the run page lists them", () => {
  const at = (seconds: number) => 1_000_000 + seconds * 1000;
  it("a state retried after a failure runs on and then exits, its retries kept; a caught failure ends it as caught", () => {
    const events: EngineEvent[] = [
      { type: "StateEntered", at: at(0), stateName: "Submit", stateType: "Task" },
      { type: "StateFailed", at: at(1), stateName: "Submit", error: "Kling.RateLimited", cause: "429" },
      { type: "StateRetried", at: at(1), stateName: "Submit", retry: { error: "Kling.RateLimited", attempt: 1, waitSeconds: 2 } },
      { type: "StateExited", at: at(4), stateName: "Submit" },
      { type: "StateEntered", at: at(4), stateName: "Poll", stateType: "Task" },
      { type: "StateFailed", at: at(5.5), stateName: "Poll", error: "Kling.GenerationFailed", cause: "too complex" },
      { type: "StateCaught", at: at(5.5), stateName: "Poll" },
      { type: "StateEntered", at: at(5.5), stateName: "ReleaseSlot", stateType: "Task" },
    ];
    expect(runSteps(events)).toEqual([
      { state: "Submit", type: "Task", enteredAt: 0, seconds: 4, outcome: "exited", retries: [{ error: "Kling.RateLimited", attempt: 1, waitSeconds: 2 }] },
      { state: "Poll", type: "Task", enteredAt: 4, seconds: 1.5, outcome: "caught", retries: [], error: "Kling.GenerationFailed", cause: "too complex" },
      { state: "ReleaseSlot", type: "Task", enteredAt: 5.5, outcome: "running", retries: [] },
    ]);
  });
});
