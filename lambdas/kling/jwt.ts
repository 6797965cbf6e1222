/**
 * The Authorization token for Kling: the API key itself, or a short-lived HS256 JWT signed
 * with the SecretKey, as Kling's API documentation specifies (header alg HS256, typ JWT; claims
 * iss = the AccessKey, exp, nbf). Signed with node:crypto alone.
 */
import { createHmac } from "node:crypto";
import { KlingError } from "../errors";
import type { Clock } from "../common/clock";
import type { KlingCredentials } from "./port";

const JWT_LIFETIME_SECONDS = 1800;
/** `nbf` lies this far in the past, so a Kling clock slightly behind ours still accepts the token. */
const JWT_NOT_BEFORE_LEEWAY_SECONDS = 5;
/** A cached JWT is re-signed once less validity than this is left. */
const JWT_RENEW_MARGIN_SECONDS = 60;

interface KlingJwtClaims {
  readonly iss: string;
  readonly exp: number;
  readonly nbf: number;
}

const JWT_HEADER = { alg: "HS256", typ: "JWT" } as const;

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

export function klingJwtClaims(accessKey: string, nowSeconds: number): KlingJwtClaims {
  return {
    iss: accessKey,
    exp: nowSeconds + JWT_LIFETIME_SECONDS,
    nbf: nowSeconds - JWT_NOT_BEFORE_LEEWAY_SECONDS,
  };
}

/** An RFC 7519 JWT, header `{"alg":"HS256","typ":"JWT"}`, signed with `secret`. */
export function signHs256Jwt(claims: KlingJwtClaims, secret: string): string {
  const signingInput = `${base64url(JSON.stringify(JWT_HEADER))}.${base64url(JSON.stringify(claims))}`;
  const signature = createHmac("sha256", secret).update(signingInput).digest();
  return `${signingInput}.${base64url(signature)}`;
}

/** Gives the token that goes after `Bearer ` in every request. */
export interface TokenSource {
  token(): string;
  /**
   * Forgets the current token so that the next `token()` is freshly signed. Returns false when
   * the credentials cannot produce another token (an API key), so repeating would not help.
   */
  renew(): boolean;
  /** The long-lived secrets (API key or SecretKey), which must never appear in any output. */
  secrets(): readonly string[];
}

class ApiKeyTokenSource implements TokenSource {
  constructor(private readonly apiKey: string) {}

  token(): string {
    return this.apiKey;
  }

  renew(): boolean {
    return false;
  }

  secrets(): readonly string[] {
    return [this.apiKey];
  }
}

class JwtTokenSource implements TokenSource {
  private cached: { readonly jwt: string; readonly claims: KlingJwtClaims } | undefined;

  constructor(
    private readonly accessKey: string,
    private readonly secretKey: string,
    private readonly clock: Clock,
  ) {}

  token(): string {
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    if (this.cached && this.stillUsable(this.cached.claims, nowSeconds)) return this.cached.jwt;
    const claims = klingJwtClaims(this.accessKey, nowSeconds);
    const jwt = signHs256Jwt(claims, this.secretKey);
    this.cached = { jwt, claims };
    return jwt;
  }

  renew(): boolean {
    this.cached = undefined;
    return true;
  }

  secrets(): readonly string[] {
    return [this.secretKey];
  }

  // A clock that moved backwards (a swapped test or local clock) can make a cached token not yet valid.
  private stillUsable(claims: KlingJwtClaims, nowSeconds: number): boolean {
    return claims.nbf <= nowSeconds && claims.exp - nowSeconds >= JWT_RENEW_MARGIN_SECONDS;
  }
}

/**
 * Secrets often arrive with a trailing newline; anything else that cannot go into an HTTP
 * header is refused here, because the HTTP layer's own error would quote the value.
 */
function readCredential(value: unknown, what: string): string {
  const text = typeof value === "string" ? value.trim() : "";
  if (text === "") throw new KlingError("Kling.AuthFailed", `The Kling ${what} is missing or empty`);
  if (/[^\x21-\x7e]/.test(text)) {
    throw new KlingError(
      "Kling.AuthFailed",
      `The Kling ${what} contains whitespace or characters that cannot be sent in an HTTP header`,
    );
  }
  return text;
}

/** Throws `Kling.AuthFailed` when the credentials are empty or unusable. */
export function createTokenSource(credentials: KlingCredentials, clock: Clock): TokenSource {
  if ("apiKey" in credentials) return new ApiKeyTokenSource(readCredential(credentials.apiKey, "API key"));
  return new JwtTokenSource(
    readCredential(credentials.accessKey, "AccessKey"),
    readCredential(credentials.secretKey, "SecretKey"),
    clock,
  );
}
