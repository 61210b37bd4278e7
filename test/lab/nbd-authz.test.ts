/**
 * On three lab hosts with the lab's fleet PKI: an export on lab-b made with rehome's qemu-nbd argv for a migration
 * from lab-a admits lab-a's client certificate only. lab-b's own client certificate and lab-c's are refused by the
 * TLS authz check, and a client without TLS is refused outright. No guest is needed.
 */
import test from 'ava';
import { quoteArgv } from '../../src/host/quote.js';
import { qemuNbdArgv } from '../../src/sync/nbd-export.js';
import { certificateDn } from '../../src/sync/tls-identity.js';
import { labDown, labSh, labUp } from './lab.js';
import { hostAddress, LAB_CERT_DIR } from './paths.js';

const IMAGE = '/var/lib/libvirt/images/authz-probe.qcow2';
const PID_FILE = '/run/rehome-authz-probe.pid';
const PORT = 10991;
const EXPORT = 'authz-probe';

async function ssh(host: string, script: string, reject = true) {
  return labSh(['ssh', host, script], { reject, timeoutMs: 60_000 });
}

test.before('lab up, export on lab-b for lab-a', async () => {
  await labUp({ hosts: 3 });
  const sourceDn = certificateDn(
    (await ssh('lab-a', `cat ${LAB_CERT_DIR}/client-cert.pem`)).stdout,
    'the client certificate of lab-a',
  );
  await ssh('lab-b', quoteArgv(['qemu-img', 'create', '-q', '-f', 'qcow2', IMAGE, '16M']));
  const argv = qemuNbdArgv(
    {
      host: 'lab-b',
      disk: 'vda',
      bindAddress: hostAddress('lab-b'),
      imagePath: IMAGE,
      virtualSizeBytes: 16 << 20,
      exportName: EXPORT,
      certDir: LAB_CERT_DIR,
      allowedClientDn: sourceDn,
      runDir: '/run',
    },
    PORT,
    PID_FILE,
  );
  await ssh('lab-b', quoteArgv(argv));
});

test.after.always('export closed, lab down', async () => {
  await ssh('lab-b', `kill $(cat ${PID_FILE}); rm -f ${IMAGE} ${PID_FILE}`, false).catch(() => undefined);
  await labDown();
});

/** qemu-img info through the export from `host`, with that host's own client certificate. */
function probeFrom(host: string) {
  return ssh(
    host,
    quoteArgv([
      'timeout',
      '20',
      'qemu-img',
      'info',
      '--object',
      `tls-creds-x509,id=tls0,endpoint=client,dir=${LAB_CERT_DIR}`,
      '--image-opts',
      `driver=nbd,host=${hostAddress('lab-b')},port=${PORT},export=${EXPORT},tls-creds=tls0`,
    ]),
    false,
  );
}

test.serial("the source's client certificate is accepted", async (t) => {
  const result = await probeFrom('lab-a');
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /virtual size: 16 MiB/);
});

test.serial("the target's own client certificate is refused", async (t) => {
  const result = await probeFrom('lab-b');
  t.not(result.exitCode, 0);
  t.regex(result.stderr, /TLS|connection abort/i);
});

test.serial("a third host's client certificate is refused", async (t) => {
  const result = await probeFrom('lab-c');
  t.not(result.exitCode, 0);
  t.regex(result.stderr, /TLS|connection abort/i);
});

test.serial('a client without TLS is refused', async (t) => {
  const result = await ssh(
    'lab-a',
    `timeout 20 qemu-img info nbd://${hostAddress('lab-b')}:${PORT}/${EXPORT}`,
    false,
  );
  t.not(result.exitCode, 0);
  t.regex(result.stderr, /TLS/i);
});
