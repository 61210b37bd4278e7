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
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        record({
          envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          ...readMessage(raw),
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

// A small MIME reader (mailparser is not installed): headers, multipart parts, QP/base64, RFC 2047 words.
function splitMessage(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, at)
    .replace(/\r\n(?=[ \t])/g, '')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(at + 4) };
}

function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?utf-8\?([qb])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQp(text.replace(/_/g, ' ')),
    );
}

function decodeQp(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function decodePart(headers: Map<string, string>, body: string): string {
  const encoding = headers.get('content-transfer-encoding')?.toLowerCase() ?? '7bit';
  const decoded =
    encoding === 'quoted-printable'
      ? decodeQp(body)
      : encoding === 'base64'
        ? Buffer.from(body, 'base64').toString('utf8')
        : body;
  return decoded.replace(/\r\n/g, '\n');
}

function readMessage(raw: string): { subject: string; to: string; text: string; html: string } {
  const { headers, body } = splitMessage(raw);
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
  const parts = new Map<string, string>();
  if (boundary) {
    for (const chunk of body.split(`--${boundary}`).slice(1, -1)) {
      const part = splitMessage(chunk.replace(/^\r\n/, ''));
      const type = (part.headers.get('content-type') ?? '').split(';')[0] ?? '';
      parts.set(type, decodePart(part.headers, part.body.replace(/\r\n$/, '')));
    }
  } else parts.set('text/plain', decodePart(headers, body));
  return {
    subject: decodeWords(headers.get('subject') ?? ''),
    to: decodeWords(headers.get('to') ?? ''),
    text: parts.get('text/plain') ?? '',
    html: parts.get('text/html') ?? '',
  };
}
