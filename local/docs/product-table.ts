/**
 * The README's product table: every Kling video product, its endpoints, models, fields, price and
 * result, written from the one product table (lambdas/schemas/products.ts). `npm run docs` writes
 * it; a test regenerates it so it never drifts.
 */
import { OUT_OF_SCOPE, PRODUCT_NAMES, PRODUCTS, type Product, type ProductPrice } from "#lambdas/schemas/products";

function priceText(price: ProductPrice): string {
  switch (price.kind) {
    case "model-rate":
      return "the model's units/s";
    case "per-second":
      return `${price.std} / ${price.pro} units/s std / pro, reserved for ${price.bound}`;
    case "per-call":
      return `${price.units} units a call`;
    case "per-5-seconds":
      return `${price.units} units per 5 s + ${price.perCall} a call, reserved for ${price.bound}`;
    case "unknown":
      return `unknown, so refused: ${price.why}`;
  }
}

function endpointsText(product: Product): string {
  return product.endpoints.map((endpoint) => `${endpoint.standard} \`${endpoint.create}\``).join(", ");
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|");
}

export function productTable(): string {
  const rows = PRODUCT_NAMES.map((name) => {
    const product = PRODUCTS[name];
    const models = product.models.length === 0 ? "none named" : product.models.map((model) => `\`${model}\``).join(", ");
    const fields = product.fields.map((field) => `\`${field.name}\` (${field.wire}): ${field.rule}`).concat(product.rules).join("; ");
    const time = product.typicalSeconds === "by-model" ? "by model" : `${product.typicalSeconds} s`;
    return `| \`${name}\` | ${cell(product.summary)} | ${cell(endpointsText(product))} | ${models} | ${cell(fields)} | ${cell(priceText(product.price))} (${cell(product.priceSource)}) | ${time} | ${product.result} | ${product.runs ? "yes" : "not yet: refused up front"} |`;
  });
  return [
    "| product | makes | endpoints | models | fields and rules | price (source) | typical time | result | runs here |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `Out of scope (image or audio products, not video): ${OUT_OF_SCOPE.join(", ")}.`,
  ].join("\n");
}
