export { KlingClient } from "./client";
export type { KlingCredentials } from "./port";
export type { Task } from "./wire";
