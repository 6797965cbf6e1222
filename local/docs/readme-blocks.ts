import { definitionFromTemplate } from "../runner/definition";
import { configurationTable } from "./configuration-table";
import { logicalIdOf, synthesizePipeline } from "../runner/synthesize";
import { modelTable } from "./model-table";
import { productTable } from "./product-table";
import { errorTable, mermaidDiagram, runbook } from "./readme-sections";

/** Every generated block of the README, from the synthesized stack, the model and pricing tables and the taxonomy. */
export function readmeBlocks(): Record<string, string> {
  const { stack, template } = synthesizePipeline();
  return {
    "generation-state-machine": mermaidDiagram(definitionFromTemplate(template, logicalIdOf(stack, stack.pipeline.generation.stateMachine))),
    "batch-state-machine": mermaidDiagram(definitionFromTemplate(template, logicalIdOf(stack, stack.pipeline.batch.stateMachine))),
    "model-table": modelTable(),
    "product-table": productTable(),
    "error-table": errorTable(),
    runbook: runbook(),
    configuration: configurationTable(),
  };
}
