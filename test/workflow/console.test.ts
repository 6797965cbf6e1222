/**
 * The local web console in a real browser: Debian's Chromium, driven by playwright-core (neither
 * downloads a browser), against `npm start -- serve` run as a person runs it. The list, a run's
 * page during and after the run, a failed run's diagnosis, a cancel. Without an installed
 * Chromium the tests say they were skipped. With KLING_CONSOLE_SCREENSHOTS=<folder> they keep
 * their screenshots there (the README's are taken so: docs/screenshots).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => existsSync(path));
const SCREENSHOTS = process.env.KLING_CONSOLE_SCREENSHOTS;

if (!CHROMIUM) console.warn("console tests skipped: no Chromium installed (apt-get install -y chromium; .ci/run installs it)");

interface Serve {
  readonly url: string;
  readonly stop: () => Promise<void>;
}

/** `npm start -- serve` on a free port, with a state directory of its own. */
async function startServe(stateDir: string): Promise<Serve> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^(AWS_|KLING)/.test(name)) env[name] = value;
  const child = spawn(process.execPath, ["--import", "tsx", "bin/local.ts", "serve", "--port", "0", "--time-scale", "0.02"], {
    cwd: ROOT,
    env: { ...env, KLING_PIPELINE_STATE_DIR: stateDir },
  });
  let output = "";
  const ended = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const found = /serving the generations API at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (found?.[1]) resolve(found[1]);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("close", (code) => reject(new Error(`serve ended (${code}) before it listened: ${output}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill("SIGINT");
      await ended;
    },
  };
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS === undefined) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Starts a generation with the console's own form and follows the link it gives to the run's page. */
async function startFromForm(page: Page, url: string, prompt: string): Promise<string> {
  await page.goto(`${url}/console`);
  await page.fill("#start-form textarea[name=prompt]", prompt);
  await page.click("#start-form button[type=submit]");
  const link = page.locator("#start-result a");
  await link.waitFor({ timeout: 20_000 });
  const id = (await link.textContent()) ?? "";
  await link.click();
  await page.waitForSelector("#run-status");
  return id;
}

describe.skipIf(!CHROMIUM)("the local console in Chromium", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "kling-console-"));
  let serve: Serve;
  let browser: Browser;

  beforeAll(async () => {
    [serve, browser] = await Promise.all([startServe(stateDir), chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] })]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it("a run started from the form shows its path while it runs, and after it the whole path, its states and the video playing from the archive", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const id = await startFromForm(page, serve.url, "a corgi surfing a wave");
    expect(id).toMatch(/^api-/);
    // While it runs: RUNNING, Validate already passed and drawn as visited, one state drawn as running.
    await page.waitForSelector('svg .state.visited[data-state="Validate"]', { timeout: 20_000 });
    const during = await page.locator("#run-status").textContent();
    if (during === "RUNNING") await screenshot(page, "console-run-during");
    // Then: SUCCEEDED, every state of the path visited, the transitions between them taken.
    await expect.poll(() => page.locator("#run-status").textContent(), { timeout: 60_000, interval: 250 }).toBe("SUCCEEDED");
    const visited = await page.locator("svg .state.visited").evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-state")));
    for (const state of ["Validate", "CheckCredits", "WaitForSlot", "Submit", "WaitForVideo", "Archive"]) expect(visited).toContain(state);
    expect(await page.locator("svg .state.failed, svg .state.caught").count()).toBe(0);
    expect(await page.locator("svg .transition.taken").count()).toBeGreaterThanOrEqual(5);
    const rows = await page.locator("#steps tbody tr td:first-child").allTextContents();
    expect(rows.slice(0, 4)).toEqual(["Validate", "CheckCredits", "WaitForSlot", "Submit"]);
    // The video plays from the local archive: the element's source answers with the kept MP4.
    const source = await page.locator("#video").getAttribute("src");
    expect(source).toBe(`/console/videos/${id}.mp4`);
    const fetched = await page.evaluate(async (path) => {
      const response = await fetch(path ?? "");
      const bytes = new Uint8Array(await response.arrayBuffer());
      return { status: response.status, type: response.headers.get("content-type"), ftyp: String.fromCharCode(...bytes.slice(4, 8)) };
    }, source);
    expect(fetched).toEqual({ status: 200, type: "video/mp4", ftyp: "ftyp" });
    expect(await page.locator("#request").textContent()).toContain("a corgi surfing a wave");
    await screenshot(page, "console-run");

    // The list has it, with its status, and the ledger is empty again.
    await page.goto(`${serve.url}/console`);
    const row = page.locator(`#runs tr[data-run="${id}"]`);
    await row.waitFor();
    expect(await row.locator("td.status").textContent()).toBe("SUCCEEDED");
    await page.waitForSelector("#ledger-slots");
    expect(await page.locator("#ledger-slots").textContent()).toBe("Kling slots held: 0 (none)");
    await screenshot(page, "console-list");
    await page.close();
  }, 120_000);

  it("a failed run's page gives its diagnosis: the error, whether it is recoverable, what to do, and the failed state drawn as caught", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await startFromForm(page, serve.url, "[scenario:content-policy] a corgi surfing a wave");
    await expect.poll(() => page.locator("#run-status").textContent(), { timeout: 60_000, interval: 250 }).toBe("FAILED");
    const diagnosis = page.locator("#diagnosis");
    await diagnosis.waitFor();
    const text = (await diagnosis.textContent()) ?? "";
    expect(text).toContain("Kling.ContentPolicy");
    expect(text).toMatch(/recoverable\s*no/);
    expect(text).toMatch(/action\s*change-prompt/);
    expect(await page.locator('svg .state.caught[data-state="Submit"]').count()).toBe(1);
    expect(await page.locator('svg .state.visited[data-state="Diagnose"]').count()).toBe(1);
    await screenshot(page, "console-failed");
    await page.close();
  }, 120_000);

  it("cancel stops a running generation: its page says ABORTED and offers no cancel any more", async () => {
    const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
    // A task Kling never finishes: the generation waits until it is stopped.
    await startFromForm(page, serve.url, "[scenario:poll-timeout] a corgi surfing a wave");
    const cancel = page.locator("#stop");
    await cancel.waitFor({ timeout: 20_000 });
    await cancel.click();
    await expect.poll(() => page.locator("#run-status").textContent(), { timeout: 60_000, interval: 250 }).toBe("ABORTED");
    expect(await page.locator("#stop").count()).toBe(0);
    await page.goto(`${serve.url}/console`);
    await page.waitForSelector("#ledger-slots");
    // The status-change backstop gave its slot back.
    await expect.poll(() => page.locator("#ledger-slots").textContent(), { timeout: 20_000, interval: 250 }).toBe("Kling slots held: 0 (none)");
    await page.close();
  }, 120_000);

  it("on a phone-sized screen the run list and a run's page fit the width", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${serve.url}/console`);
    await page.locator("#runs tbody tr").first().waitFor();
    const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "console-phone");
    await page.close();
  }, 60_000);
});
