/**
 * Adds `.js` (or `/index.js`) to the relative imports of the emitted declarations: the sources
 * import without extensions (they are bundled), but an app type-checking with
 * `moduleResolution: nodenext` (what `cdk init` writes) resolves an ESM package's relative
 * imports only with them. Run by `npm run build` on dist/types.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

const RELATIVE_SPECIFIER = /((?:from|import)\s*\(?\s*")(\.{1,2}\/[^"]+)(")/g;

/** `./x` -> `./x.js` when x.d.ts sits beside the file, `./x/index.js` when x is a folder of declarations. */
function withExtension(fromFile: string, specifier: string): string {
  const target = path.resolve(path.dirname(fromFile), specifier);
  if (existsSync(`${target}.d.ts`)) return `${specifier}.js`;
  if (existsSync(path.join(target, "index.d.ts"))) return `${specifier}/index.js`;
  throw new Error(`${fromFile} imports ${specifier}, which has no declaration file`);
}

function addDeclarationExtensions(folder: string): number {
  let rewritten = 0;
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = readFileSync(file, "utf8");
    const fixed = text.replace(RELATIVE_SPECIFIER, (_, before: string, specifier: string, after: string) => `${before}${withExtension(file, specifier)}${after}`);
    if (fixed !== text) {
      writeFileSync(file, fixed);
      rewritten += 1;
    }
  }
  return rewritten;
}

const [folder] = process.argv.slice(2);
if (folder === undefined) {
  console.error("usage: tsx local/build/declaration-extensions.ts <declarations folder>");
  process.exitCode = 2;
} else {
  addDeclarationExtensions(folder);
}
