import test from 'ava';
import { parseDomainStats, stateName } from '../../src/inventory/domain-stats.js';
import { hostCpuFromCapabilities, networkBridge } from '../../src/inventory/host-xml.js';
import { parseDfAvail, parseIpLinkBridges } from '../../src/inventory/node-commands.js';
import {
  decodeBlockInfo,
  decodeGetAllDomainStats,
  encodeGetAllDomainStats,
} from '../../src/libvirt/protocol/messages.js';
import { type DomainRef, writeDomain } from '../../src/libvirt/protocol/types.js';
import { type TypedParam, writeTypedParam, XdrReader, XdrWriter } from '../../src/libvirt/xdr.js';

const domain: DomainRef = { name: `it's "x"`, uuid: 'bb9b0b15-d300-4aa3-91dd-458a092fbdf9', id: -1 };

function statsReply(records: { domain: DomainRef; params: TypedParam[] }[]): Buffer {
  const writer = new XdrWriter();
  writer.array(records, (w, record) => {
    writeDomain(w, record.domain);
    w.array(record.params, writeTypedParam);
  });
  return writer.toBuffer();
}

test('get-all-domain-stats args: domain list, stats mask, flags', (t) => {
  const body = encodeGetAllDomainStats([domain], 33, 0);
  const reader = new XdrReader(body);
  t.is(reader.uint(), 1);
  t.is(reader.string(), domain.name);
  reader.opaqueFixed(16);
  t.is(reader.int(), -1);
  t.is(reader.uint(), 33);
  t.is(reader.uint(), 0);
  reader.end();
  t.deepEqual([...encodeGetAllDomainStats([], 1, 0)], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
});

test('a stats reply decodes into state and per-target block sizes', (t) => {
  const reply = statsReply([
    {
      domain,
      params: [
        { field: 'state.state', type: 'int', value: 5 },
        { field: 'state.reason', type: 'int', value: 0 },
        { field: 'block.count', type: 'uint', value: 3 },
        { field: 'block.0.name', type: 'string', value: 'vda' },
        { field: 'block.0.path', type: 'string', value: '/img/a.qcow2' },
        { field: 'block.0.allocation', type: 'ullong', value: 200704n },
        { field: 'block.0.capacity', type: 'ullong', value: 67108864n },
        { field: 'block.0.physical', type: 'ullong', value: 196616n },
        { field: 'block.1.name', type: 'string', value: 'vdb' },
        { field: 'block.2.name', type: 'string', value: 'vda' },
        { field: 'block.2.capacity', type: 'ullong', value: 1n },
      ],
    },
  ]);
  const [record] = decodeGetAllDomainStats(reply);
  t.deepEqual(record?.domain, domain);
  if (!record) return;
  const stats = parseDomainStats(record);
  t.is(stats.state, 'shutoff');
  t.deepEqual(stats.blocks.get('vda'), {
    name: 'vda',
    path: '/img/a.qcow2',
    allocation: 200704,
    capacity: 67108864,
    physical: 196616,
  });
  // A network disk: libvirt gives only its name.
  t.deepEqual(stats.blocks.get('vdb'), { name: 'vdb' });
  t.is(stats.blocks.size, 2, 'a repeated target (a backing layer) does not replace the active layer');
});

test('state names, unknown ones included', (t) => {
  t.is(stateName(1), 'running');
  t.is(stateName(3), 'paused');
  t.is(stateName(42), 'unknown');
  t.is(stateName(undefined), 'unknown');
});

test('block info decodes allocation, capacity, physical in wire order', (t) => {
  const writer = new XdrWriter().uhyper(1n).uhyper(2n).uhyper(3n);
  t.deepEqual(decodeBlockInfo(writer.toBuffer()), { allocation: 1n, capacity: 2n, physical: 3n });
});

test('df and ip -j outputs', (t) => {
  t.is(parseDfAvail('      Avail\n84482883584\n'), 84482883584);
  t.throws(() => parseDfAvail('Avail\n-\n'), { message: /Unexpected df output/ });
  t.deepEqual(parseIpLinkBridges('[{"ifname":"virbr0"},{"ifname":"br0","flags":["UP"]}]\n'), [
    'br0',
    'virbr0',
  ]);
  t.deepEqual(parseIpLinkBridges(''), []);
});

test('host CPU from capabilities, and a network bridge', (t) => {
  const caps = `<capabilities>
  <host>
    <uuid>x</uuid>
    <cpu>
      <arch>x86_64</arch>
      <model>Skylake-Client-IBRS</model>
      <vendor>Intel</vendor>
      <topology sockets='1' dies='1' cores='2' threads='1'/>
      <feature name='vmx'/>
      <feature name='ssbd'/>
    </cpu>
  </host>
  <guest><arch name='x86_64'><model>ignored</model></arch></guest>
</capabilities>`;
  t.deepEqual(hostCpuFromCapabilities(caps), {
    arch: 'x86_64',
    model: 'Skylake-Client-IBRS',
    vendor: 'Intel',
    features: ['vmx', 'ssbd'],
  });
  t.is(networkBridge("<network><name>default</name><bridge name='virbr0' stp='on'/></network>"), 'virbr0');
  t.is(networkBridge('<network><name>isolated</name></network>'), undefined);
  t.throws(() => hostCpuFromCapabilities('<capabilities'), { message: /Invalid capabilities XML/ });
});
