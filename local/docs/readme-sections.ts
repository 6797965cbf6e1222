/**
 * The parts of the README that restate code: the state machine diagrams (from the synthesized
 * definitions) and the error table (from the taxonomy and the retry policies). `npm run docs`
 * writes them; a test regenerates them so they never drift.
 */
import { errorProse } from "#lambdas/errors/runbook";
import { ERROR_KINDS, FAILED_GENERATION_SUGGESTIONS, KLING_ERROR_CODES, KNOWN_ERROR_KINDS, errorNamesSentBackToQueue } from "#lambdas/errors/index";
import { RETRY_POLICIES, SUBMIT_RETRIES } from "#lib/retry-policies";
import type { StateMachineDefinition } from "../runner/definition";

type StateBody = Record<string, unknown>;

function nodeId(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, "_");
}

function node(name: string, state: StateBody): string {
  const id = nodeId(name);
  switch (state.Type) {
    case "Choice":
      return `${id}{"${name}"}`;
    case "Wait":
      return `${id}(["${name}"])`;
    case "Succeed":
    case "Fail":
      return `${id}((("${name}")))`;
    case "Map":
      return id;
    default:
      return `${id}["${name}"]`;
  }
}

interface Choice {
  readonly Variable?: string;
  readonly StringEquals?: string;
  readonly BooleanEquals?: boolean;
  readonly Next: string;
}

function condition(choice: Choice): string {
  const value = choice.StringEquals ?? choice.BooleanEquals;
  if (choice.Variable && value !== undefined) return `${choice.Variable.replace(/^\$\./, "")} = ${String(value)}`;
  return "when";
}

function edges(states: Record<string, StateBody>, indent: string): string[] {
  const lines: string[] = [];
  for (const [name, state] of Object.entries(states)) {
    const from = nodeId(name);
    if (typeof state.Next === "string") lines.push(`${indent}${from} --> ${nodeId(state.Next)}`);
    for (const choice of (state.Choices as Choice[] | undefined) ?? []) {
      lines.push(`${indent}${from} -- "${condition(choice)}" --> ${nodeId(choice.Next)}`);
    }
    if (typeof state.Default === "string") lines.push(`${indent}${from} -- otherwise --> ${nodeId(state.Default)}`);
    for (const catcher of (state.Catch as { ErrorEquals: string[]; Next: string }[] | undefined) ?? []) {
      lines.push(`${indent}${from} -. "${catcher.ErrorEquals.join(", ")}" .-> ${nodeId(catcher.Next)}`);
    }
  }
  return lines;
}

function flowchart(states: Record<string, StateBody>, indent: string): string[] {
  const lines: string[] = [];
  for (const [name, state] of Object.entries(states)) {
    const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, StateBody> } | undefined;
    if (state.Type === "Map" && processor) {
      const concurrency = typeof state.MaxConcurrency === "number" ? `, at most ${state.MaxConcurrency} at once` : "";
      lines.push(`${indent}subgraph ${nodeId(name)}["${name} (Map: each item${concurrency})"]`);
      lines.push(...flowchart(processor.States, `${indent}  `));
      lines.push(`${indent}end`);
    } else {
      lines.push(`${indent}${node(name, state)}`);
    }
  }
  lines.push(...edges(states, indent));
  return lines;
}

/** A Mermaid flowchart of a definition: every state, every transition, every Catch (dashed). */
export function mermaidDiagram(definition: StateMachineDefinition): string {
  return ["```mermaid", "flowchart TD", ...flowchart(definition.States, "  "), "```"].join("\n");
}


/** What the state machine does with an error: its retry policy, and at Submit going back to the queue (the taxonomy's backToQueue). */
function retryText(name: string): string {
  const policy = Object.values(RETRY_POLICIES).find((candidate) => (candidate.errors as readonly string[]).includes(name));
  const sentBack = errorNamesSentBackToQueue().includes(name);
  const retried = policy
    ? `${policy.maxAttempts} attempts, from ${policy.interval.toSeconds()} s, ×${policy.backoffRate}, full jitter, capped at ${policy.maxDelay.toSeconds()} s`
    : "no";
  if (!sentBack) return retried;
  const atSubmit = SUBMIT_RETRIES.some((retry) => RETRY_POLICIES[retry] === policy) ? "past those at Submit" : "at Submit, at once";
  return `${retried}; ${atSubmit}: back to the queue (\`BackToQueue\`) until the queue deadline`;
}

function codesText(name: string): string {
  const rows = KLING_ERROR_CODES.filter((row) => row.name === name);
  return rows.map((row) => `${row.httpStatus}/${row.codes.join(", ")}`).join("; ");
}

const RECOVERY: Record<string, string> = {
  "retry-later": "yes",
  "buy-credits": "yes, once credits are bought",
  "fix-credentials": "yes, once credentials are fixed",
};

/** The error table: each name, what raises it, whether it is retried, can recover, passes by itself. */
export function errorTable(): string {
  const rows = KNOWN_ERROR_KINDS.map(([name, kind]) => {
    const codes = codesText(name);
    const { meaning } = errorProse(name);
    const raisedFor = codes ? `${codes}: ${meaning}` : meaning;
    const recoverable = kind.recoverable ? (RECOVERY[kind.action] ?? "yes") : "no";
    const scheduled = kind.passesByItself ? "yes" : "no";
    return `| \`${name}\` | ${raisedFor} | ${retryText(name)} | ${recoverable} | ${scheduled} | \`${kind.action}\` |`;
  });
  return [
    "| error name | HTTP/code: raised for | retried by the state machine | recoverable | passes by itself (the scheduled redrive takes it) | action |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** What a failed generation's requester is told: by Kling's reason, else the default. */
function failedGenerationSuggestions(): string {
  const byReason = FAILED_GENERATION_SUGGESTIONS.map(({ reason, suggestion }) => `${reason}: ${suggestion}`);
  return `by Kling's reason (${byReason.join(" ")}), else: ${ERROR_KINDS["Kling.GenerationFailed"].suggestion}`;
}

/** The operator's runbook: what each error name means, what the requester is told, what to do. */
export function runbook(): string {
  const rows = KNOWN_ERROR_KINDS.map(([name, kind]) => {
    const told = name === "Kling.GenerationFailed" ? failedGenerationSuggestions() : kind.suggestion;
    const { meaning, operator } = errorProse(name);
    return `| \`${name}\` | ${meaning} | ${told} | ${operator} |`;
  });
  return ["| error name | what happened | the requester is told | the operator |", "|---|---|---|---|", ...rows].join("\n");
}

/** A block's first line names the command that writes it: `npm run docs` for most, `npm run bench -- --readme` for the measured tables. */
const BEGIN = (name: string) => `<!-- BEGIN generated: ${name} (`;
const END = "<!-- END generated -->";

/** Replaces each generated block of the README with the given content. */
export function updateGeneratedBlocks(readme: string, blocks: Record<string, string>): string {
  let updated = readme;
  for (const [name, content] of Object.entries(blocks)) {
    const start = updated.indexOf(BEGIN(name));
    const beginEnd = start < 0 ? -1 : updated.indexOf("-->", start) + "-->".length;
    const end = start < 0 ? -1 : updated.indexOf(END, beginEnd);
    if (start < 0 || end < 0) throw new Error(`the README has no generated block "${name}"`);
    updated = `${updated.slice(0, beginEnd)}\n${content}\n${updated.slice(end)}`;
  }
  return updated;
}
