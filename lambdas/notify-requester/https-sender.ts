/**
 * The notifier's HTTP port: one POST to a requester's https URL, bounded by a timeout, no
 * redirects followed (a signed body goes only where the request named). The status decides;
 * the answer's body is read (up to a cap) and dropped.
 *
 * A requester's URL cannot be aimed inward: an IP literal is refused, and a name is resolved by
 * the connection's own lookup, which refuses loopback, private, link-local (the instance
 * metadata endpoint among them) and other non-public addresses: the address checked is the one
 * connected to, so a name that resolves differently a moment later (DNS rebinding) gains nothing.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { request } from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { MAX_CALLBACK_URL_BYTES } from "../schemas/generation-request";

export interface WebhookPost {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

/** Resolves with the answer's status; rejects on a network failure, a refused address or the timeout. */
export type WebhookSender = (post: WebhookPost) => Promise<number>;

/** A name's addresses, as DNS gives them (the tests inject their own: no real DNS). */
export type Resolver = (hostname: string) => Promise<readonly { readonly address: string; readonly family: number }[]>;

export interface WebhookSenderOptions {
  /** The only CA trusted (the local runner's test certificate); the system's CAs without it. */
  readonly ca?: string | Buffer | undefined;
  readonly resolve?: Resolver;
  /**
   * Local only, never set on Lambda: lets a notification go to a loopback address (127.0.0.0/8,
   * ::1), where the local runner's tests and `npm start -- serve` users receive them.
   */
  readonly allowLoopback?: boolean;
}

/** An answer's body past this is not read: the status is all that counts. */
const MAX_ANSWER_BYTES = 64 * 1024;

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Addresses a requester's callback never goes to (RFC 6890's special-purpose ranges, and the cloud metadata endpoints). */
const NOT_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["64:ff9b::", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  NOT_PUBLIC.addSubnet(network, prefix, "ipv6");
}
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** Why a callback may not connect to this address, or undefined when it may. */
export function addressRefusal(address: string, allowLoopback: boolean): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is checked as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const [checked, type] = mapped ? [mapped, "ipv4" as const] : [address, family === 4 ? ("ipv4" as const) : ("ipv6" as const)];
  if (LOOPBACK.check(checked, type)) return allowLoopback ? undefined : `${address} is a loopback address`;
  if (NOT_PUBLIC.check(checked, type)) return `${address} is a private, link-local or otherwise non-public address`;
  return undefined;
}

/** The connection's lookup: the name's addresses, refused unless every one is public. */
function checkedLookup(resolve: Resolver, allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const refusal = addresses.length === 0 ? `${hostname} has no address` : addresses.map(({ address }) => addressRefusal(address, allowLoopback)).find((reason) => reason !== undefined);
        if (refusal) {
          callback(new Error(`a requester callback may not go to ${hostname}: ${refusal}`), "", 4);
        } else if (options.all) {
          callback(null, addresses.map(({ address, family }) => ({ address, family })));
        } else {
          const [first] = addresses;
          callback(null, first?.address ?? "", first?.family ?? 4);
        }
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), "", 4),
    );
  };
}

/** Over https to a public address only (loopback too when allowed, locally), each connection's address checked. */
export function httpsWebhookSender(options: WebhookSenderOptions = {}): WebhookSender {
  const { ca, resolve = systemResolver, allowLoopback = false } = options;
  const lookup = checkedLookup(resolve, allowLoopback);
  return ({ url, headers, body, timeoutMs }) =>
    new Promise((done, reject) => {
      if (Buffer.byteLength(url, "utf8") > MAX_CALLBACK_URL_BYTES) {
        reject(new Error(`a requester callback URL is at most ${MAX_CALLBACK_URL_BYTES} bytes`));
        return;
      }
      const target = new URL(url);
      if (target.protocol !== "https:") {
        reject(new Error(`a requester callback goes over https only, not ${target.protocol}`));
        return;
      }
      // No lookup is made for an IP literal: it is checked here, and refused unless a loopback one is allowed.
      const literal = target.hostname.replace(/^\[(.*)\]$/, "$1");
      if (isIP(literal) !== 0) {
        const refusal = allowLoopback ? addressRefusal(literal, true) : `${literal} is an IP address, not a name`;
        if (refusal) {
          reject(new Error(`a requester callback may not go to ${literal}: ${refusal}`));
          return;
        }
      }
      const outgoing = request(
        target,
        { method: "POST", headers: { ...headers, "content-length": String(Buffer.byteLength(body)) }, signal: AbortSignal.timeout(timeoutMs), lookup, ...(ca ? { ca } : {}) },
        (answer) => {
          const status = answer.statusCode ?? 0;
          let read = 0;
          answer.on("data", (chunk: Buffer) => {
            read += chunk.length;
            // Past the cap the rest is not read: the status has come.
            if (read > MAX_ANSWER_BYTES) {
              answer.destroy();
              done(status);
            }
          });
          answer.on("end", () => done(status));
          answer.on("error", (error) => (read > MAX_ANSWER_BYTES ? done(status) : reject(error)));
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });
}
