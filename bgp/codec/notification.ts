// NOTIFICATION (RFC 4271 §4.5) with the shutdown communication of RFC 8203/9003 for
// Cease subcodes 2 (Administrative Shutdown) and 4 (Administrative Reset), also when
// wrapped in a Hard Reset (RFC 8538 §3: Cease/9 whose data is ErrCode, Subcode, Data).
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { fromHex, toHex } from './addr.js';
import { notificationName } from './errors.js';
import type { NotificationMessage } from './types.js';

export function decodeNotification(r: Reader): NotificationMessage {
  const code = r.u8('error code');
  const subcode = r.u8('error subcode');
  const data = r.rest();
  const m: NotificationMessage = { type: 'NOTIFICATION', code, subcode, data: toHex(data) };
  const text = shutdownText(code, subcode, data);
  if (text !== undefined) m.shutdownMessage = text;
  m.reason = notificationName(code, subcode);
  return m;
}

/** RFC 9003 §2: a length octet then that many octets of UTF-8 (up to 255). */
function shutdownText(code: number, subcode: number, data: Uint8Array): string | undefined {
  // RFC 8538 §3: FRR sends `neighbor X shutdown message` as Hard Reset around Cease/2.
  if (code === 6 && subcode === 9 && data.length >= 2) return shutdownText(data[0]!, data[1]!, data.subarray(2));
  if (code !== 6 || (subcode !== 2 && subcode !== 4) || data.length === 0) return undefined;
  const len = data[0]!;
  if (len + 1 > data.length) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}

export function encodeNotification(w: Writer, m: NotificationMessage): void {
  w.u8(m.code).u8(m.subcode);
  if (m.data) w.bytes(fromHex(m.data, 'data'));
  else if (m.shutdownMessage !== undefined) w.bytes(shutdownData(m.shutdownMessage));
}

/** The data field carrying a shutdown communication; text is cut to 255 octets on a character boundary. */
export function shutdownData(text: string): Uint8Array {
  let bytes = new TextEncoder().encode(text);
  if (bytes.length > 255) {
    let cut = 255;
    while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
    bytes = bytes.subarray(0, cut);
  }
  const out = new Uint8Array(bytes.length + 1);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}
