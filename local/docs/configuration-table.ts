/**
 * The README's configuration table, from the typed configuration: each key, its default
 * (lambdas/common/settings.ts, as the schema applies it) and its description.
 */
import { pipelineConfigSchema } from "#lib/pipeline-config";

function shown(value: unknown): string {
  if (value === undefined) return "none";
  return `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;
}

export function configurationTable(): string {
  const defaults: Record<string, unknown> = pipelineConfigSchema.parse({});
  const rows = Object.entries(pipelineConfigSchema.shape).map(([key, schema]) => {
    if (!schema.description) throw new Error(`configuration key ${key} has no description: add .describe(...) in lib/pipeline-config.ts`);
    return `| \`${key}\` | ${shown(defaults[key])} | ${schema.description} |`;
  });
  return ["| context key | default | what it sets |", "|---|---|---|", ...rows].join("\n");
}
