import type { ArchiveErrorName } from "../errors/taxonomy";

/** An error of Archive: its `name` is the Step Functions error name that Retry and Catch match. */
export class ArchiveError extends Error {
  override readonly name: ArchiveErrorName;

  constructor(name: ArchiveErrorName, message: string) {
    super(message);
    this.name = name;
  }

  /** A download that failed on the way (a dropped connection, a reset): worth another attempt. */
  static downloadBrokeOff(url: string, cause: unknown): ArchiveError {
    if (cause instanceof ArchiveError) return cause;
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    return new ArchiveError("Archive.DownloadFailed", `the download of ${url} broke off: ${reason}`);
  }
}
