/** `npm run docs`: rewrites the README's generated blocks from the code. */
import { readFile, writeFile } from "node:fs/promises";
import { readmeBlocks } from "./readme-blocks";
import { updateGeneratedBlocks } from "./readme-sections";

const path = new URL("../../README.md", import.meta.url);
const readme = await readFile(path, "utf8");
const updated = updateGeneratedBlocks(readme, readmeBlocks());
if (updated === readme) {
  console.log("README.md is up to date");
} else {
  await writeFile(path, updated);
  console.log("README.md updated");
}
