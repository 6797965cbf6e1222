export { KlingClient, type KlingClientOptions } from "./client";
export {
  createTokenSource,
  klingJwtClaims,
  signHs256Jwt,
  JWT_LIFETIME_SECONDS,
  JWT_NOT_BEFORE_LEEWAY_SECONDS,
  JWT_RENEW_MARGIN_SECONDS,
  type KlingJwtClaims,
  type TokenSource,
} from "./jwt";
export type { KlingApi, KlingCredentials } from "./port";
export * from "./wire";
