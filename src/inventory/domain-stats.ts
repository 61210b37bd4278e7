/** libvirt's flat domain statistics ("state.state", "block.0.capacity", …) into a typed shape. */
import { DomainState } from '../libvirt/protocol/constants.js';
import type { DomainStatsRecord } from '../libvirt/protocol/messages.js';
import type { TypedParam } from '../libvirt/xdr.js';
import type { DomainStateName } from './types.js';

export interface BlockStats {
  name: string;
  path?: string;
  capacity?: number;
  allocation?: number;
  physical?: number;
}

export interface DomainStats {
  state: DomainStateName;
  /** Keyed by the disk's target name (vda, sdb…). */
  blocks: Map<string, BlockStats>;
}

const STATE_NAMES = new Map<number, DomainStateName>(
  Object.entries(DomainState).map(([name, value]) => [value, name as DomainStateName]),
);

export function stateName(value: number | undefined): DomainStateName {
  return (value !== undefined && STATE_NAMES.get(value)) || 'unknown';
}

function numberOf(param: TypedParam | undefined): number | undefined {
  if (!param) return undefined;
  if (typeof param.value === 'bigint') return Number(param.value);
  return typeof param.value === 'number' ? param.value : undefined;
}

export function parseDomainStats(record: DomainStatsRecord): DomainStats {
  const params = new Map(record.params.map((param) => [param.field, param]));
  const blocks = new Map<string, BlockStats>();
  const count = numberOf(params.get('block.count')) ?? 0;
  for (let index = 0; index < count; index++) {
    const field = (name: string) => params.get(`block.${index}.${name}`);
    const name = field('name');
    if (name?.type !== 'string') continue;
    const path = field('path');
    const stats: BlockStats = { name: name.value };
    if (path?.type === 'string') stats.path = path.value;
    const capacity = numberOf(field('capacity'));
    const allocation = numberOf(field('allocation'));
    const physical = numberOf(field('physical'));
    if (capacity !== undefined) stats.capacity = capacity;
    if (allocation !== undefined) stats.allocation = allocation;
    if (physical !== undefined) stats.physical = physical;
    // With backing chains listed, a target repeats; the first entry is the active layer.
    if (!blocks.has(stats.name)) blocks.set(stats.name, stats);
  }
  return { state: stateName(numberOf(params.get('state.state'))), blocks };
}
