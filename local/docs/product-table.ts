/**
 * The README's product table: every Kling video product, its endpoints, models, fields, price and
 * result, written from the one product table (lambdas/schemas/products.ts, its facts, and
 * products-described.ts, its words). `npm run docs` writes it; a test regenerates it so it never drifts.
 */
import { OUT_OF_SCOPE, PRODUCT_NAMES, PRODUCTS, type Product } from "#lambdas/schemas/products";
import { PRODUCT_DESCRIPTIONS, type ProductDescription } from "#lambdas/schemas/products-described";

function priceText({ price }: Product, { reservedFor }: ProductDescription): string {
  const reserved = reservedFor === undefined ? "" : `, reserved for ${reservedFor}`;
  switch (price.kind) {
    case "model-rate":
      return "the model's units/s";
    case "per-second":
      return `${price.std} / ${price.pro} units/s std / pro${reserved}`;
    case "per-call":
      return `${price.units} units a call`;
    case "per-5-seconds":
      return `${price.units} units per 5 s + ${price.perCall} a call${reserved}`;
    case "unknown":
      return `unknown, so refused: ${price.why}`;
  }
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

export function productTable(): string {
  const rows = PRODUCT_NAMES.map((name) => {
    const product = PRODUCTS[name];
    const described = PRODUCT_DESCRIPTIONS[name];
    const endpoints = described.endpoints.map((endpoint) => `${endpoint.standard} \`${endpoint.create}\``).join(", ");
    const models = product.models.length === 0 ? "none named" : product.models.map((model) => `\`${model}\``).join(", ");
    const fields = described.fields.map((field) => `\`${field.name}\` (${field.wire}): ${field.rule}`).concat(described.rules).join("; ");
    const time = product.typicalSeconds === "by-model" ? "by model" : `${product.typicalSeconds} s`;
    const price = `${priceText(product, described)} (${described.priceSource})`;
    return `| \`${name}\` | ${cell(described.summary)} | ${cell(endpoints)} | ${models} | ${cell(fields)} | ${cell(price)} | ${time} | ${product.result} | ${product.runs ? "yes" : "not yet: refused up front"} |`;
  });
  return [
    "| product | makes | endpoints | models | fields and rules | price (source) | typical time | result | runs here |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `Out of scope (image or audio products, not video): ${OUT_OF_SCOPE.join(", ")}.`,
  ].join("\n");
}
