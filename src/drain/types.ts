import type { Decision, Plan, Strategy } from '../placement/types.js';
import type { DrainRecord, DrainVmOutcome, HostStateName } from '../store/types.js';
import type { LinkSpeed } from './settings.js';

/** `rehome plan drain HOST`: the placement plan plus what the operator needs to decide. */
export interface DrainPlanReport {
  host: string;
  strategy: Strategy;
  /** The link speed the ETAs assume, and where the figure comes from. */
  linkSpeed: LinkSpeed;
  /** Hosts that are not active (the source counts as draining), as placement saw them. */
  hostStates: { host: string; state: HostStateName }[];
  /** Hosts the inventory could not read: not considered as targets. */
  unreachable: string[];
  /** In placement order: largest memory first. */
  decisions: DrainPlanEntry[];
  totals: Plan['totals'];
  /** True when some VM has no target or cannot move at all. */
  blocked: boolean;
}

export type DrainPlanEntry = Decision & {
  /** bytesToCopy at the link speed, in seconds. */
  etaSeconds: number;
};

/** How the drain reaches the migration engine: prepare the target, mirror until ready, arm. */
export type PrepareAndArm = (
  vm: { name: string; uuid: string },
  target: string,
  options: PrepareAndArmOptions,
) => Promise<ArmedVm>;

export interface PrepareAndArmOptions {
  deadline: string | null;
  bandwidthBytesPerSec?: number;
  onProgress?: (step: string, message?: string) => void;
}

export interface ArmedVm {
  migrationId: string;
  phase: string;
}

export interface DrainVmEvent {
  vm: string;
  target: string | null;
  outcome: DrainVmOutcome;
  step?: string;
  message?: string;
}

export interface DrainCallbacks {
  /** Once the drain is recorded, before any VM starts: every VM of the plan, in plan order. */
  onStart?: (vms: readonly { vm: string; target: string | null }[]) => void;
  onVm?: (event: DrainVmEvent) => void;
}

export interface DrainResult {
  drain: DrainRecord;
  plan: DrainPlanReport;
  /** The host's state before this drain marked it draining. */
  previousState: HostStateName | 'active';
}
