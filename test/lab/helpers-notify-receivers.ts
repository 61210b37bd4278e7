/**
 * Receivers for the notify lab tests, run inside the operator namespace (where rehome runs):
 *   smtp PORT FILE            an SMTP server; each message decoded to one JSON line in FILE
 *   webhook PORT FILE SECRET  an HTTP receiver; each POST to one JSON line, with its signature checked
 * Started with tsx by helpers-notify.ts; stopped with SIGTERM.
 */
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../../src/notify/index.js';
import { readMail } from '../helpers/read-mail.js';

const [mode, portText, file, secret] = process.argv.slice(2);
const port = Number(portText);
if (!file || !Number.isInteger(port)) throw new Error('usage: smtp|webhook PORT FILE [SECRET]');
const record = (value: unknown) => appendFileSync(file, `${JSON.stringify(value)}\n`);

if (mode === 'smtp') {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks);
        record({
          envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          ...(await readMail(raw)),
        });
        callback();
      });
    },
  });
  server.listen(port, '127.0.0.1', () => console.log(`smtp listening on ${port}`));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
} else if (mode === 'webhook') {
  if (!secret) throw new Error('webhook needs SECRET');
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const timestamp = header(request.headers[TIMESTAMP_HEADER.toLowerCase()]);
      const signature = header(request.headers[SIGNATURE_HEADER.toLowerCase()]);
      record({
        verified: verifyWebhookSignature(secret, timestamp, body, signature),
        verifiedWithWrongSecret: verifyWebhookSignature(`${secret}x`, timestamp, body, signature),
        verifiedTampered: verifyWebhookSignature(
          secret,
          timestamp,
          Buffer.concat([body, Buffer.from(' ')]),
          signature,
        ),
        payload: JSON.parse(body.toString('utf8')),
      });
      response.writeHead(204).end();
    });
  });
  server.listen(port, '127.0.0.1', () => console.log(`webhook listening on ${port}`));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  throw new Error(`unknown mode ${mode}`);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
