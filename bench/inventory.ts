/**
 * bench/inventory: rehome's inventory of one host with 50 defined domains, against the operator's script
 * `ssh HOST virsh list --all --name` followed by one `ssh HOST virsh dumpxml NAME` per domain. Goal (issue 3):
 * ratio ≤ 0.5.
 *
 * Run as root, holding the lab lock: `flock /tmp/rehome-lab.lock npx tsx bench/inventory.ts`. It brings a one-host
 * lab up, defines the domains (2 of them running), measures, and takes the lab down again.
 *
 * Two like-for-like comparisons, medians of several runs:
 * - CLI: `rehome inventory lab-a --json` (a whole process: node start-up, config, ssh connect, libvirt open) against
 *   the shell loop (a whole ssh process per call);
 * - library: `inventoryHosts` over an already-open connection against `virsh list` + `virsh dumpxml` per domain
 *   as remote commands over the same already-open SSH connection (no ssh start-up on either side).
 * `--inside HOST` is the library half; the driver runs it in the lab's operator namespace.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/config-file.js';
import { sshOptionsFromConfig } from '../src/config/ssh-options.js';
import { SshPool } from '../src/host/ssh-pool.js';
import { inventoryHosts } from '../src/inventory/inventory.js';
import { HostConnections } from '../src/libvirt/host-connections.js';

const HOST = 'lab-a';
const DOMAINS = 50;
const RUNNING = 2;
const RUNS = 5;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}

/** The library half, inside the operator namespace: prints one JSON line. */
async function inside(host: string): Promise<void> {
  const configFile =
    process.env.REHOME_CONFIG ?? path.join(process.env.HOME ?? '', '.config/rehome/config.yaml');
  const { config } = await loadConfig(configFile);
  const hosts = config.hosts.filter((entry) => entry.name === host);
  const connections = new HostConnections(hosts, new SshPool(sshOptionsFromConfig(config)));
  let domains = 0;
  const cold = await timed(async () => {
    const result = await inventoryHosts(hosts, connections);
    const [first] = result.hosts;
    if (!first?.ok) throw new Error(`inventory failed: ${JSON.stringify(first)}`);
    domains = first.domains.length;
  });
  const ssh = await connections.ssh(host);
  const rehome: number[] = [];
  const baseline: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    rehome.push(await timed(() => inventoryHosts(hosts, connections)));
    baseline.push(
      await timed(async () => {
        const list = await ssh.exec(['virsh', 'list', '--all', '--name']);
        for (const name of list.stdout.split('\n').filter(Boolean)) {
          const xml = await ssh.exec(['virsh', 'dumpxml', '--', name]);
          if (xml.code !== 0) throw new Error(`dumpxml ${name}: ${xml.stderr}`);
        }
      }),
    );
  }
  await connections.closeAll();
  process.stdout.write(
    `${JSON.stringify({ domains, cold, rehome: median(rehome), baseline: median(baseline) })}\n`,
  );
}

async function driver(): Promise<void> {
  const { labDown, labSh, labUp, virsh } = await import('../test/lab/lab.js');
  const { hostRoot, GUEST_IMAGE_DIR } = await import('../test/lab/paths.js');
  const { labDomainXml, imagePath } = await import('../test/lab/inventory-domains.js');
  const { run } = await import('../test/lab/run.js');
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  try {
    log('bringing a one-host lab up');
    await labUp({ hosts: 1 });
    const root = hostRoot(HOST);
    await mkdir(path.join(root, GUEST_IMAGE_DIR), { recursive: true });
    await mkdir(path.join(root, 'var/lib/libvirt/rehome-bench'), { recursive: true });
    for (let index = 0; index < DOMAINS; index++) {
      const name = `bench-${String(index).padStart(2, '0')}`;
      const file = { name: `${name}.qcow2`, format: 'qcow2' as const, sizeBytes: 64 * 1024 * 1024 };
      await run([
        'qemu-img',
        'create',
        '-q',
        '-f',
        'qcow2',
        path.join(root, imagePath(file)),
        String(file.sizeBytes),
      ]);
      const disks = [{ target: 'vda', file }, ...(index % 10 === 0 ? [{ target: 'vdb' }] : [])];
      const xml = labDomainXml({
        name,
        stem: name,
        disks,
        bridge: 'br0',
        owner: `owner-${index}@example.com`,
      });
      await writeFile(path.join(root, 'var/lib/libvirt/rehome-bench', `${name}.xml`), xml);
    }
    log(`defining ${DOMAINS} domains on ${HOST}, starting ${RUNNING}`);
    await labSh([
      'ssh',
      HOST,
      'for f in /var/lib/libvirt/rehome-bench/*.xml; do virsh define "$f" >/dev/null || exit 1; done',
    ]);
    for (let index = 0; index < RUNNING; index++)
      await virsh(HOST, ['start', `bench-${String(index + 1).padStart(2, '0')}`]);

    const cliRehome: number[] = [];
    const cliBaseline: number[] = [];
    const loop = `n=0; for d in $(ssh ${HOST} virsh list --all --name); do ssh ${HOST} virsh dumpxml "$d" >/dev/null || exit 1; n=$((n+1)); done; echo $n`;
    for (let runIndex = 0; runIndex < RUNS; runIndex++) {
      cliRehome.push(
        await timed(async () => {
          const { stdout } = await labSh(['rehome', 'inventory', HOST, '--json'], { timeoutMs: 120_000 });
          const count = JSON.parse(stdout).hosts[0].domains.length;
          if (count !== DOMAINS) throw new Error(`rehome saw ${count} domains`);
        }),
      );
      cliBaseline.push(
        await timed(async () => {
          const { stdout } = await labSh(['sh', '-c', loop], { timeoutMs: 120_000 });
          if (Number(stdout.trim()) !== DOMAINS) throw new Error(`the loop saw ${stdout.trim()} domains`);
        }),
      );
    }
    const { stdout } = await labSh(
      ['node', '--import', 'tsx', '--no-warnings', 'bench/inventory.ts', '--inside', HOST],
      {
        timeoutMs: 300_000,
      },
    );
    const library = JSON.parse(stdout) as { domains: number; cold: number; rehome: number; baseline: number };
    if (library.domains !== DOMAINS) throw new Error(`the library inventory saw ${library.domains} domains`);

    const ms = (value: number) => `${value.toFixed(0)} ms`;
    const cli = { rehome: median(cliRehome), baseline: median(cliBaseline) };
    console.log(`inventory of ${HOST}: ${DOMAINS} domains (${RUNNING} running), median of ${RUNS} runs`);
    console.log(
      `CLI      rehome inventory --json: ${ms(cli.rehome)}   ssh virsh list + ${DOMAINS}× ssh virsh dumpxml: ${ms(cli.baseline)}   ratio ${(cli.rehome / cli.baseline).toFixed(3)}`,
    );
    console.log(
      `library  inventoryHosts (open connection): ${ms(library.rehome)}   virsh list + dumpxml over one open ssh: ${ms(library.baseline)}   ratio ${(library.rehome / library.baseline).toFixed(3)}`,
    );
    console.log(`library  first inventory including ssh connect and libvirt open: ${ms(library.cold)}`);
    console.log(`goal: ratio ≤ 0.5 — CLI ${cli.rehome / cli.baseline <= 0.5 ? 'met' : 'NOT met'}`);
  } finally {
    log('taking the lab down');
    await labDown();
  }
}

const insideAt = process.argv.indexOf('--inside');
if (insideAt >= 0) await inside(process.argv[insideAt + 1] ?? HOST);
else await driver();
