import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Clock } from "#lambdas/common/clock";
import { KlingError } from "#lambdas/errors/index";
import { createTokenSource, signHs256Jwt } from "#lambdas/kling/jwt";

const ACCESS_KEY = "ak-test-access";
const SECRET_KEY = "sk-test-secret-0123456789";
const START_MS = 1_700_000_000_750;
const START_S = 1_700_000_000;

let clockMs = START_MS;
/** The signer's clock port, moved by hand. */
const clock: Clock = { now: () => clockMs };

function startClock(atMs: number): void {
  clockMs = atMs;
}

function decodeSegment(segment: string): unknown {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

/** Verifies an HS256 JWT independently of the code under test, and returns its parts. */
function verifyHs256(jwt: string, secret: string): { header: unknown; claims: { iss: string; exp: number; nbf: number } } {
  const [header, payload, signature] = jwt.split(".");
  if (header === undefined || payload === undefined || signature === undefined) throw new Error(`not a JWT: ${jwt}`);
  const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  if (signature !== expected) throw new Error("signature does not verify");
  return { header: decodeSegment(header), claims: decodeSegment(payload) as { iss: string; exp: number; nbf: number } };
}

describe("Kling JWT", () => {
  it("is an HS256 JWT with iss = AccessKey, exp = now + 1800 s and nbf = now - 5 s, verifiable with the SecretKey", () => {
    startClock(START_MS);
    const jwt = createTokenSource({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, clock).token();

    expect(jwt.split(".")).toHaveLength(3);
    expect(jwt).not.toMatch(/[=+/]/);
    const { header, claims } = verifyHs256(jwt, SECRET_KEY);
    expect(header).toEqual({ alg: "HS256", typ: "JWT" });
    expect(claims).toEqual({ iss: ACCESS_KEY, exp: START_S + 1800, nbf: START_S - 5 });
  });

  it("does not verify with another secret", () => {
    startClock(START_MS);
    const jwt = createTokenSource({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, clock).token();
    expect(() => verifyHs256(jwt, `${SECRET_KEY}x`)).toThrow("signature does not verify");
  });

  it("signs exactly what it is given", () => {
    const jwt = signHs256Jwt({ iss: "a", exp: 2, nbf: 1 }, "s");
    expect(verifyHs256(jwt, "s").claims).toEqual({ iss: "a", exp: 2, nbf: 1 });
  });

  it("reads the time from the swappable clock, so a scaled clock signs scaled times", () => {
    startClock(42_000);
    const { claims } = verifyHs256(createTokenSource({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, clock).token(), SECRET_KEY);
    expect(claims.exp).toBe(42 + 1800);
  });

  it("reuses the cached JWT while at least 60 s of validity are left, and re-signs when less remain", () => {
    startClock(START_MS);
    const tokens = createTokenSource({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, clock);
    const first = tokens.token();

    clockMs = (START_S + 1800 - 60) * 1000;
    expect(tokens.token()).toBe(first);

    clockMs = (START_S + 1800 - 59) * 1000;
    const second = tokens.token();
    expect(second).not.toBe(first);
    expect(verifyHs256(second, SECRET_KEY).claims.exp).toBe(START_S + 1800 - 59 + 1800);
    expect(tokens.token()).toBe(second);
  });

  it("re-signs when the clock moved back before the cached JWT's nbf", () => {
    startClock(START_MS);
    const tokens = createTokenSource({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, clock);
    const first = tokens.token();
    clockMs = START_MS - 10_000;
    const second = tokens.token();
    expect(second).not.toBe(first);
    expect(verifyHs256(second, SECRET_KEY).claims.nbf).toBe(START_S - 10 - 5);
  });

  it("renew() makes the next token freshly signed", () => {
    startClock(START_MS);
    const tokens = createTokenSource({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, clock);
    tokens.token();
    clockMs += 5_000;
    expect(tokens.renew()).toBe(true);
    expect(verifyHs256(tokens.token(), SECRET_KEY).claims.exp).toBe(START_S + 5 + 1800);
  });
});

describe("Kling API key token", () => {
  it("is the key itself and cannot be renewed", () => {
    const tokens = createTokenSource({ apiKey: "key-abc-123" }, clock);
    expect(tokens.token()).toBe("key-abc-123");
    expect(tokens.renew()).toBe(false);
  });

  it("tolerates the trailing newline secrets often carry", () => {
    expect(createTokenSource({ apiKey: "key-abc-123\n" }, clock).token()).toBe("key-abc-123");
  });
});

describe("unusable credentials", () => {
  it.each([
    ["an empty API key", { apiKey: "" }],
    ["a blank SecretKey", { accessKey: ACCESS_KEY, secretKey: "   " }],
    ["an empty AccessKey", { accessKey: "", secretKey: SECRET_KEY }],
  ])("%s is Kling.AuthFailed", (_, credentials) => {
    expect(() => createTokenSource(credentials, clock)).toThrow(KlingError);
    expect(() => createTokenSource(credentials, clock)).toThrow(expect.objectContaining({ name: "Kling.AuthFailed" }));
  });

  it("a key that cannot go into a header is Kling.AuthFailed, without quoting the key", () => {
    const apiKey = "key-with\ninner-newline-SECRET";
    let thrown: unknown;
    try {
      createTokenSource({ apiKey }, clock);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KlingError);
    expect((thrown as KlingError).name).toBe("Kling.AuthFailed");
    expect(`${(thrown as KlingError).message} ${JSON.stringify(thrown)}`).not.toContain("SECRET");
  });
});
