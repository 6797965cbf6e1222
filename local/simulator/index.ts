export {
  startSimulator,
  DEV_API_KEY,
  DEFAULT_GENERATION_SECONDS,
  DEFAULT_MAX_CONCURRENT_TASKS,
  DEFAULT_UNITS,
  type Simulator,
  type SimulatorOptions,
  type RequestLogEntry,
} from "./server";
export type { SimulatorStats, RequestKind, CallbackCounts } from "./stats";
export type { CallbackLogEntry, CallbackScheduler } from "./callbacks";
export type { CallbackFaultOptions } from "./callback-faults";
export type { SimulatedTask } from "./tasks";
export { makespanLowerBoundSeconds, type TakenSlot } from "./makespan-lower-bound";
export type { HeldSlot, OtherUsersTask } from "./other-users";
export type { PackSeed } from "./packs";
export {
  API_REQUEST_KINDS,
  CALLBACK_FAULT_KINDS,
  errorFault,
  noFaults,
  ruleBasedPlan,
  type ApiRequestInfo,
  type ApiRequestKind,
  type CallbackFault,
  type CallbackFaultKind,
  type CallbackInfo,
  type CallbackRule,
  type Fault,
  type FaultAnswer,
  type FaultPlan,
  type FaultRule,
  type NewTaskInfo,
  type TaskOutcome,
  type VideoDelivery,
} from "./faults";
export {
  SCENARIOS,
  SCENARIO_NAMES,
  faultPlanFor,
  
  isScenarioName,
  scenarioNamed,
  type Scenario,
  type ScenarioName,
} from "./scenarios";
export { perItemPlan, taggedScenario } from "./per-item-plan";
export { chaosPlan, mulberry32, CHAOS_FAULT_KINDS, CHAOS_REQUEST_FAULTS, CHAOS_DELAY_FAULTS, CHAOS_LEDGER_FAULTS, CHAOS_TASK_FAULTS, CHAOS_FAILURE_MESSAGES, type ChaosPlan, type ChaosPlanOptions, type ChaosFaultKind, type ChaosLedgerFault, type DelayFault } from "./chaos-plan";
