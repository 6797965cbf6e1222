/** A server that could not listen on the port it was given, as one line that says what to do. */
import { createServer } from "node:net";

export class PortUnavailableError extends Error {
  override readonly name = "PortUnavailableError";
}

/** The one-line reason a listen failed on host:port, or undefined for an error that is not about the port. */
export function portProblem(error: unknown, host: string, port: number): string | undefined {
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  switch (code) {
    case "EADDRINUSE":
      return `port ${port} on ${host} is in use; pick another with --port (0 picks a free one)`;
    case "EACCES":
      return `port ${port} on ${host} is not permitted for this user (ports below 1024 need privileges); pick one from 1024 up with --port`;
    case "EADDRNOTAVAIL":
      return `cannot listen on ${host}:${port}: the address is not available on this machine`;
    default:
      return undefined;
  }
}

/** Fails fast, before seconds of synthesis, when `port` cannot be listened on; listening later still reports its own error. */
export async function ensurePortFree(host: string, port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (error) => reject(new PortUnavailableError(portProblem(error, host, port) ?? `cannot listen on ${host}:${port}: ${error.message}`)));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
