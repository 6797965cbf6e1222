/** dynalite ships no types: the part the local ledger uses. */
declare module "dynalite" {
  import type { Server } from "node:http";

  interface DynaliteOptions {
    readonly createTableMs?: number;
    readonly deleteTableMs?: number;
    readonly updateTableMs?: number;
    /** The LevelDB folder; in memory without it. */
    readonly path?: string;
  }

  export default function dynalite(options?: DynaliteOptions): Server;
}
