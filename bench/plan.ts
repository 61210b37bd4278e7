/**
 * bench/plan: place 40,000 synthetic VMs on a fleet of 2,000 synthetic hosts and print the wall time and peak RSS.
 * Goal (issue 6): ≤ 1 s and ≤ 300 MB. Run with `npx tsx bench/plan.ts`.
 *
 * The fleet: 200 draining hosts hold the 40,000 VMs; the other 1,800 already run 10 guests each. Four zones, with the
 * config rule "zone same as source"; three CPU families; host-model, host-passthrough and custom CPUs; bridges and
 * networks that not every host has; anti-affinity groups; a few VMs too large for any host and a few with
 * passthrough devices. Everything comes from a seeded PRNG, so every run plans the same fleet.
 */
import { performance } from 'node:perf_hooks';
import { guestCpuKey } from '../src/placement/cpu-key.js';
import { planPlacements } from '../src/placement/plan.js';
import type {
  CpuCompareVerdict,
  GuestCpu,
  GuestLoad,
  HostCpu,
  HostFacts,
  LabelRule,
  Plan,
  VmFacts,
} from '../src/placement/types.js';

const HOSTS = 2_000;
const VMS = 40_000;
const DRAINING_EVERY = 10;
const GUESTS_PER_TARGET = 10;
const BASELINE_VMS = 400;
const GiB_KiB = 1024 * 1024;
const GB = 1e9;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(20261125);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const between = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));

const flags = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const CPUS: HostCpu[] = [
  { vendor: 'Intel', model: 'Cascadelake-Server', features: flags('f', 80) },
  { vendor: 'Intel', model: 'Icelake-Server', features: flags('f', 95) },
  { vendor: 'AMD', model: 'EPYC-Milan', features: flags('a', 85) },
];
const CUSTOM_CPUS: GuestCpu[] = [
  { mode: 'custom', model: 'Skylake-Server', features: ['avx2'] },
  { mode: 'custom', model: 'EPYC', features: [] },
];
const ZONES = ['z0', 'z1', 'z2', 'z3'];
const LABEL_RULES: LabelRule[] = [{ key: 'zone', sameAsSource: true }];

function customVerdicts(cpu: HostCpu): Record<string, CpuCompareVerdict> {
  const intel = cpu.vendor === 'Intel';
  return {
    [guestCpuKey(CUSTOM_CPUS[0] as GuestCpu)]: intel ? 'superset' : 'incompatible',
    [guestCpuKey(CUSTOM_CPUS[1] as GuestCpu)]: intel ? 'incompatible' : 'superset',
  };
}

function guestLoads(n: number, host: string): GuestLoad[] {
  return Array.from({ length: n }, (_, g) => ({
    name: `${host}-g${g}`,
    vcpus: pick([1, 2, 4, 8]),
    memoryKiB: pick([2, 4, 8, 16, 32]) * GiB_KiB,
    ...(random() < 0.1 ? { antiAffinity: [`app-${between(0, 999)}`] } : {}),
  }));
}

function makeHosts(): HostFacts[] {
  return Array.from({ length: HOSTS }, (_, h) => {
    const name = `host-${String(h).padStart(4, '0')}`;
    const cpu = pick(CPUS);
    const draining = h % DRAINING_EVERY === 0;
    return {
      name,
      state: draining ? 'draining' : 'active',
      labels: { zone: ZONES[Math.floor((h * ZONES.length) / HOSTS)] as string, rack: `r${h % 50}` },
      cpu,
      cores: pick([64, 96, 128]),
      memoryKiB: pick([512, 768, 1024]) * GiB_KiB,
      policy: {
        reservedMemoryKiB: 16 * GiB_KiB,
        memoryOvercommit: pick([1, 1.2]),
        cpuOvercommit: 4,
        diskHeadroomBytes: 100 * GB,
        diskHeadroomRatio: 0.05,
      },
      imageDirFreeBytes: between(6_000, 12_000) * GB,
      bridges: random() < 0.5 ? ['br0', 'br1'] : ['br0'],
      networks: random() < 0.75 ? ['default', 'storage'] : ['default'],
      guests: draining ? [] : guestLoads(GUESTS_PER_TARGET, name),
      cpuCompare: customVerdicts(cpu),
    };
  });
}

function makeVms(hosts: HostFacts[]): VmFacts[] {
  const sources = hosts.filter((h) => h.state === 'draining');
  return Array.from({ length: VMS }, (_, v) => {
    const source = sources[v % sources.length] as HostFacts;
    const roll = random();
    const cpu: GuestCpu =
      roll < 0.7 ? { mode: 'host-model' } : roll < 0.9 ? { mode: 'host-passthrough' } : pick(CUSTOM_CPUS);
    const disks = Array.from({ length: between(1, 3) }, (_, d) => {
      const size = between(20, 200) * GB;
      return {
        target: `vd${String.fromCharCode(97 + d)}`,
        kind: random() < 0.9 ? ('local' as const) : ('network' as const),
        virtualSizeBytes: size,
        allocatedBytes: Math.floor(size * (0.3 + random() * 0.4)),
      };
    });
    const nics = [{ mac: mac(v, 0), type: 'bridge', source: 'br0' }];
    if (random() < 0.3) nics.push({ mac: mac(v, 1), type: 'bridge', source: 'br1' });
    if (random() < 0.3) nics.push({ mac: mac(v, 2), type: 'network', source: 'storage' });
    const huge = v % 4_000 === 1;
    return {
      name: `vm-${String(v).padStart(5, '0')}`,
      uuid: `00000000-0000-4000-8000-${String(v).padStart(12, '0')}`,
      host: source.name,
      vcpus: pick([1, 2, 2, 4, 4, 8, 16]),
      memoryKiB: huge ? 2048 * GiB_KiB : pick([1, 2, 4, 4, 8, 8, 16, 32, 64]) * GiB_KiB,
      cpu,
      disks,
      nics,
      hostdevs: v % 5_000 === 7 ? 1 : 0,
      ...(random() < 0.1 ? { antiAffinity: [`app-${between(0, 999)}`] } : {}),
    };
  });
}

function mac(v: number, n: number): string {
  const hex = (v * 4 + n).toString(16).padStart(8, '0');
  return `52:54:${hex.match(/../g)?.join(':')}`;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

function summary(plan: Plan): string {
  const t = plan.totals;
  return `${t.placed} placed, ${t.blocked} blocked, ${(t.bytesToCopy / 1e12).toFixed(1)} TB to copy, ETA ${t.etaSeconds} s`;
}

function sameDecisions(a: Plan, b: Plan): boolean {
  return a.decisions.every((d, i) => {
    const e = b.decisions[i];
    return (
      e !== undefined &&
      d.vm === e.vm &&
      d.status === e.status &&
      (d.status !== 'placed' || e.status !== 'placed' || d.target === e.target)
    );
  });
}

const hosts = makeHosts();
const vms = makeVms(hosts);
const link = 1.25e9; // 10 Gbit/s

const start = performance.now();
const plan = planPlacements(vms, hosts, { labelRules: LABEL_RULES, linkBytesPerSecond: link });
const planMs = performance.now() - start;
const peakRss = process.resourceUsage().maxRSS * 1024;

const startAnyZone = performance.now();
const anyZone = planPlacements(vms, hosts, { linkBytesPerSecond: link });
const anyZoneMs = performance.now() - startAnyZone;

// The reference engine (every filter for every host, a verdict object per pair) on a prefix of the same VMs.
const subset = vms.slice(0, BASELINE_VMS);
const fastSubsetStart = performance.now();
const fastSubset = planPlacements(subset, hosts, { labelRules: LABEL_RULES });
const fastSubsetMs = performance.now() - fastSubsetStart;
const referenceStart = performance.now();
const referenceSubset = planPlacements(subset, hosts, { labelRules: LABEL_RULES, engine: 'reference' });
const referenceMs = performance.now() - referenceStart;

const goalTime = planMs <= 1000;
const goalRss = peakRss <= 300e6;
console.log(
  `fleet: ${HOSTS} hosts (${HOSTS / DRAINING_EVERY} draining), ${VMS} VMs to place, rule zone=same-as-source`,
);
console.log(
  `plan:  ${planMs.toFixed(0)} ms  (goal ≤ 1000 ms: ${goalTime ? 'met' : 'MISSED'})  ${summary(plan)}`,
);
console.log(
  `peak RSS: ${mb(peakRss)}  (goal ≤ 300 MB: ${goalRss ? 'met' : 'MISSED'}; whole process, fleet included)`,
);
console.log(
  `plan without the zone rule (every VM scans ~1,800 hosts): ${anyZoneMs.toFixed(0)} ms  ${summary(anyZone)}`,
);
console.log(
  `reference engine on ${BASELINE_VMS} VMs: ${referenceMs.toFixed(0)} ms vs fast ${fastSubsetMs.toFixed(1)} ms ` +
    `(${(referenceMs / fastSubsetMs).toFixed(0)}× slower; same decisions: ${sameDecisions(fastSubset, referenceSubset)})`,
);
console.log(`peak RSS after all runs: ${mb(process.resourceUsage().maxRSS * 1024)}`);
