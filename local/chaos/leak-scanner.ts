/**
 * Finds credentials where they must never be: the API key, the SecretKey and the AccessKey
 * (whole, or any fragment of 17 characters or more), and any JWT signed with the SecretKey or
 * issued for the AccessKey (found by its `eyJ` prefix, then checked by signature and `iss`).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { isRecord } from "../simulator/json";

export interface ChaosSecrets {
  readonly apiKey: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface Leak {
  /** Where it was found, e.g. "log line 12" or "execution batch-x-3 StateExited Poll". */
  readonly source: string;
  /** What was found, e.g. "API key", "fragment of the SecretKey", "JWT signed with the SecretKey". */
  readonly what: string;
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const SECRET_LENGTH = 40;
/** Fragments are looked for as windows this long, this far apart: any 17+ character piece holds one. */
const WINDOW = 12;
const STRIDE = 6;
const JWT_CANDIDATE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/g;

/** Random credentials, distinctive enough that finding one anywhere is a leak, never a coincidence. */
export function randomSecrets(): ChaosSecrets {
  const make = (prefix: string) => {
    const bytes = randomBytes(SECRET_LENGTH);
    let text = prefix;
    for (const byte of bytes) {
      if (text.length >= SECRET_LENGTH) break;
      text += ALPHANUMERIC[byte % ALPHANUMERIC.length];
    }
    return text;
  };
  return { apiKey: make("Kak"), accessKey: make("Kac"), secretKey: make("Ksk") };
}

interface Needle {
  readonly text: string;
  readonly whole: boolean;
  readonly name: string;
}

export class LeakScanner {
  readonly leaks: Leak[] = [];
  texts = 0;
  characters = 0;
  private readonly needles: readonly Needle[];

  constructor(private readonly secrets: ChaosSecrets) {
    const named: [string, string][] = [
      ["API key", secrets.apiKey],
      ["SecretKey", secrets.secretKey],
      ["AccessKey", secrets.accessKey],
    ];
    const needles: Needle[] = [];
    for (const [name, secret] of named) {
      needles.push({ text: secret, whole: true, name });
      const starts = new Set<number>();
      for (let start = 0; start + WINDOW <= secret.length; start += STRIDE) starts.add(start);
      starts.add(secret.length - WINDOW);
      for (const start of starts) needles.push({ text: secret.slice(start, start + WINDOW), whole: false, name });
    }
    this.needles = needles;
  }

  /** Scans a value as it would be stored or sent: its JSON text (a string as itself). */
  scanValue(source: string, value: unknown): void {
    if (value === undefined || value === null) return;
    this.scan(source, typeof value === "string" ? value : JSON.stringify(value));
  }

  scan(source: string, text: string): void {
    this.texts += 1;
    this.characters += text.length;
    const found = new Set<string>();
    for (const needle of this.needles) {
      if (!text.includes(needle.text)) continue;
      found.add(needle.whole || text.includes(this.wholeOf(needle.name)) ? `the ${needle.name}` : `a fragment of the ${needle.name}`);
    }
    if (text.includes("eyJ")) {
      for (const match of text.matchAll(JWT_CANDIDATE)) {
        const verdict = this.jwtVerdict(match[0]);
        if (verdict) found.add(verdict);
      }
    }
    for (const what of found) this.leaks.push({ source, what });
  }

  private wholeOf(name: string): string {
    if (name === "API key") return this.secrets.apiKey;
    return name === "SecretKey" ? this.secrets.secretKey : this.secrets.accessKey;
  }

  /** A JWT counts as a leak when the SecretKey signed it or it was issued for the AccessKey, even cut short. */
  private jwtVerdict(token: string): string | undefined {
    const [header = "", payload = "", signature = ""] = token.split(".");
    if (signature !== "") {
      const expected = createHmac("sha256", this.secrets.secretKey).update(`${header}.${payload}`).digest();
      const given = Buffer.from(signature, "base64url");
      if (given.length === expected.length && timingSafeEqual(given, expected)) return "a JWT signed with the SecretKey";
    }
    try {
      const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
      if (isRecord(claims) && claims.iss === this.secrets.accessKey) return "a JWT issued for the AccessKey";
    } catch {
      // Not a JWT's payload.
    }
    return undefined;
  }
}
