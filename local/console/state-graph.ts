/**
 * The generation state machine drawn as the AWS console draws it: every state a box, every
 * transition an arrow (Next, a Choice's branches and Default, a Catch dashed), laid out by dagre
 * (@dagrejs/dagre) from the synthesized definition, never a hand-drawn copy. The SVG is made once
 * per definition; the run page marks the states an execution visited by their `data-state`.
 */
import dagre, { type EdgeLabel, type GraphLabel, type NodeLabel } from "@dagrejs/dagre";
import type { StateMachineDefinition } from "../runner/definition";

interface Transition {
  readonly from: string;
  readonly to: string;
  /** A Catch's way to the failure path, drawn dashed. */
  readonly caught: boolean;
}

/** Every transition between the definition's top-level states, each once. */
export function transitionsOf(definition: StateMachineDefinition): Transition[] {
  const found = new Map<string, Transition>();
  const add = (from: string, to: unknown, caught: boolean) => {
    if (typeof to !== "string" || !(to in definition.States)) return;
    const key = `${from}->${to}`;
    // A state both reached normally and by a Catch is drawn as the normal way.
    if (!found.has(key) || !caught) found.set(key, { from, to, caught });
  };
  for (const [name, state] of Object.entries(definition.States)) {
    add(name, state.Next, false);
    add(name, state.Default, false);
    for (const choice of (state.Choices as { Next?: unknown }[] | undefined) ?? []) add(name, choice.Next, false);
    for (const caught of (state.Catch as { Next?: unknown }[] | undefined) ?? []) add(name, caught.Next, true);
  }
  return [...found.values()];
}

const NODE_HEIGHT = 34;
const CHARACTER_WIDTH = 7.4;
const NODE_PADDING = 28;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The state machine as an SVG document: a `<g class="state" data-state="Name">` per state. */
export function stateMachineSvg(definition: StateMachineDefinition): string {
  const graph = new dagre.graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>();
  graph.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 36, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const name of Object.keys(definition.States)) graph.setNode(name, { width: name.length * CHARACTER_WIDTH + NODE_PADDING, height: NODE_HEIGHT });
  const transitions = transitionsOf(definition);
  for (const transition of transitions) graph.setEdge(transition.from, transition.to, {});
  dagre.layout(graph);

  const { width = 0, height = 0 } = graph.graph();
  const edges = graph.edges().map((edge) => {
    const points = graph.edge(edge).points ?? [];
    const path = points.map((point, index) => `${index === 0 ? "M" : "L"}${point.x.toFixed(1)},${point.y.toFixed(1)}`).join(" ");
    const caught = transitions.find((transition) => transition.from === edge.v && transition.to === edge.w)?.caught === true;
    return `<path class="transition${caught ? " caught" : ""}" data-from="${escapeXml(edge.v)}" data-to="${escapeXml(edge.w)}" d="${path}" marker-end="url(#arrow)"/>`;
  });
  const nodes = graph.nodes().map((name) => {
    const { x: centerX = 0, y: centerY = 0, width: boxWidth = 0 } = graph.node(name);
    const x = centerX - boxWidth / 2;
    const y = centerY - NODE_HEIGHT / 2;
    const type = String((definition.States[name] as { Type?: unknown }).Type ?? "");
    return (
      `<g class="state ${escapeXml(type.toLowerCase())}" data-state="${escapeXml(name)}">` +
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${boxWidth.toFixed(1)}" height="${NODE_HEIGHT}" rx="${type === "Choice" ? 17 : 4}"/>` +
      `<text x="${centerX.toFixed(1)}" y="${(centerY + 4.5).toFixed(1)}">${escapeXml(name)}</text></g>`
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="state-machine" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" width="${Math.ceil(width)}" height="${Math.ceil(height)}" role="img" aria-label="the generation state machine">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
    ...edges,
    ...nodes,
    "</svg>",
  ].join("\n");
}
