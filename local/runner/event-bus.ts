/** The default event bus on this machine: `events:putEvents` records each entry here. */
import { assertPutEventsSize, type PutEventsEntry } from "./quotas";

export interface BusEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
}

export class LocalEventBus {
  readonly events: BusEvent[] = [];
  private listeners: ((event: BusEvent) => void)[] = [];

  subscribe(listener: (event: BusEvent) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((other) => other !== listener);
    };
  }

  /** What the putEvents integration does with its `Entries`, and what it returns. */
  putEvents(parameters: unknown): { Entries: { EventId: string }[]; FailedEntryCount: number } {
    const entries = (parameters as { Entries?: unknown }).Entries;
    if (!Array.isArray(entries)) throw new Error("putEvents needs Entries");
    assertPutEventsSize(entries as PutEventsEntry[]);
    const ids = entries.map((entry: PutEventsEntry) => {
      const event: BusEvent = {
        source: String(entry.Source),
        detailType: String(entry.DetailType),
        // The integration takes Detail as JSON text or as an object.
        detail: typeof entry.Detail === "string" ? JSON.parse(entry.Detail) : entry.Detail,
      };
      this.events.push(event);
      for (const listener of this.listeners) listener(event);
      return { EventId: `local-${this.events.length}` };
    });
    return { Entries: ids, FailedEntryCount: 0 };
  }
}
