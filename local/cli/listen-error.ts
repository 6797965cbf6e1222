/** A server that could not listen on the port it was given, as one line that says what to do. */

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
