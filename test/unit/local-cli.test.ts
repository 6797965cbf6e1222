/** The local command's pieces that a child process cannot show: the status on a terminal, a port it may not open. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { portProblem } from "#local/cli/listen-error";
import { batchBar, LiveStatus } from "#local/cli/progress";

describe("the live status", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("on a terminal is redrawn in place, cut to the terminal's width, and cleared before each trace line", async () => {
    const written: string[] = [];
    const out: string[] = [];
    let tick = 0;
    const status = new LiveStatus(
      { out: (line) => out.push(line), err: () => undefined, terminal: { write: (text) => written.push(text), columns: 20 } },
      async () => `status ${++tick} ${"x".repeat(40)}`,
      50,
    );
    await vi.advanceTimersByTimeAsync(500);
    expect(written).toEqual([`\r\x1b[Kstatus 1 ${"x".repeat(10)}`, `\r\x1b[Kstatus 2 ${"x".repeat(10)}`]);
    status.line("   +1.0s  Submit        Kling task t-1 (submitted)");
    expect(written.at(-1)).toBe("\r\x1b[K");
    expect(out).toEqual(["   +1.0s  Submit        Kling task t-1 (submitted)"]);
    status.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(out).toHaveLength(1);
  });

  it("without a terminal is a plain line every 15 simulated seconds, never more than one a real second", async () => {
    const out: string[] = [];
    // Time x20: 15 simulated seconds are 0.75 real seconds, so once a real second.
    const fast = new LiveStatus({ out: (line) => out.push(line), err: () => undefined }, async () => "waiting", 50);
    await vi.advanceTimersByTimeAsync(3000);
    fast.stop();
    expect(out).toEqual(["waiting", "waiting", "waiting"]);
    out.length = 0;
    // Real time: every 15 s.
    const real = new LiveStatus({ out: (line) => out.push(line), err: () => undefined }, async () => "waiting", 1000);
    await vi.advanceTimersByTimeAsync(29_000);
    real.stop();
    expect(out).toEqual(["waiting"]);
  });

  it("of a batch is a bar over its items, with how many items hold a Kling slot and how many are queued for one", () => {
    expect(batchBar(3, 1, 7)).toBe("[#########-----------] 3/7 done, 1 failed");
    expect(batchBar(3, 1, 7, { holding: 2, queued: 2 })).toBe("[#########-----------] 3/7 done, 1 failed; 2 generating, 2 queued for a Kling slot");
    expect(batchBar(3, 1, 7, { holding: 2, queued: 0 })).toBe("[#########-----------] 3/7 done, 1 failed; 2 generating");
  });

  it("says nothing more once stopped, even when its status was still being read", async () => {
    const out: string[] = [];
    let answer: (status: string) => void = () => undefined;
    const status = new LiveStatus({ out: (line) => out.push(line), err: () => undefined }, () => new Promise<string>((resolve) => (answer = resolve)), 50);
    await vi.advanceTimersByTimeAsync(1000);
    status.stop();
    answer("late status");
    await vi.advanceTimersByTimeAsync(1000);
    expect(out).toEqual([]);
  });
});

describe("a port the local servers cannot open", () => {
  it.each([
    ["EADDRINUSE", "port 3000 on 127.0.0.1 is in use; pick another with --port (0 picks a free one)"],
    ["EACCES", "port 3000 on 127.0.0.1 is not permitted for this user (ports below 1024 need privileges); pick one from 1024 up with --port"],
  ])("%s is one line that says what to do", (code, line) => {
    const error = Object.assign(new Error(`listen ${code}: 127.0.0.1:3000`), { code });
    expect(portProblem(error, "127.0.0.1", 3000)).toBe(line);
  });

  it("another error is left to the caller", () => {
    expect(portProblem(new Error("boom"), "127.0.0.1", 3000)).toBeUndefined();
  });
});
