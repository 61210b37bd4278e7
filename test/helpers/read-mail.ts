import { type AddressObject, simpleParser } from 'mailparser';

export interface ReadMail {
  subject: string;
  to: string;
  text: string;
  html: string;
}

/** Subject, To and the text and HTML parts of a raw message, decoded (MIME, QP/base64, RFC 2047 words). */
export async function readMail(raw: string | Buffer): Promise<ReadMail> {
  const mail = await simpleParser(raw);
  return {
    subject: mail.subject ?? '',
    to: addressText(mail.to),
    text: mail.text ?? '',
    html: typeof mail.html === 'string' ? mail.html : '',
  };
}

function addressText(to: AddressObject | AddressObject[] | undefined): string {
  if (!to) return '';
  return (Array.isArray(to) ? to : [to]).map((address) => address.text).join(', ');
}
