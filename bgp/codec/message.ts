// Message framing (RFC 4271 §4.1): the 19-octet header, KEEPALIVE (§4.4), ROUTE-REFRESH
// (RFC 2918 §3, RFC 7313 §3.2), and the dispatch to each message's codec. decodeMessage
// never throws: a fatal error comes back as { ok: false, error }.
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { BgpError, ErrorCode, headerError, HeaderSub } from './errors.js';
import { decodeOpen, encodeOpen } from './open.js';
import { decodeUpdate, encodeUpdate } from './update.js';
import { decodeNotification, encodeNotification } from './notification.js';
import { afiSafi, familyOf } from './family.js';
import { EncodeError } from './addr.js';
import { DEFAULT_CONTEXT, type CodecContext, type Decoded, type Message } from './types.js';

export const HEADER_LENGTH = 19;
export const MAX_MESSAGE = 4096;
export const MAX_EXTENDED_MESSAGE = 65535;

export const enum MessageType {
  Open = 1,
  Update = 2,
  Notification = 3,
  Keepalive = 4,
  RouteRefresh = 5,
}

const MIN_LENGTH: Record<number, number> = { 1: 29, 2: 23, 3: 21, 4: 19, 5: 23 };

export function maxMessageLength(ctx: CodecContext): number {
  return ctx.extendedMessage ? MAX_EXTENDED_MESSAGE : MAX_MESSAGE;
}

/**
 * Checks a header at `at` (RFC 4271 §6.1): marker, length bounds for the type, known type.
 * Returns the message length; throws the header error to send.
 */
export function checkHeader(buf: Uint8Array, at: number, ctx: CodecContext): number {
  for (let i = 0; i < 16; i++) {
    if (buf[at + i] !== 0xff) throw headerError(HeaderSub.ConnectionNotSynchronized, 'marker is not all ones');
  }
  const len = (buf[at + 16]! << 8) | buf[at + 17]!;
  const type = buf[at + 18]!;
  const lenData = Uint8Array.of(buf[at + 16]!, buf[at + 17]!);
  const min = MIN_LENGTH[type];
  if (min === undefined) throw headerError(HeaderSub.BadMessageType, `unknown message type ${type}`, Uint8Array.of(type));
  // RFC 8654 §3: OPEN and KEEPALIVE never exceed 4096 even when extended messages are on.
  const max = type === MessageType.Open || type === MessageType.Keepalive ? MAX_MESSAGE : maxMessageLength(ctx);
  if (len < min || len > max || (type === MessageType.Keepalive && len !== HEADER_LENGTH)) {
    throw headerError(HeaderSub.BadMessageLength, `length ${len} is not valid for message type ${type}`, lenData);
  }
  return len;
}

/** Decodes one whole message (header included). Never throws. */
export function decodeMessage(buf: Uint8Array, ctx: CodecContext = DEFAULT_CONTEXT): Decoded {
  try {
    if (buf.length < HEADER_LENGTH) throw headerError(HeaderSub.BadMessageLength, `${buf.length} octets is shorter than a header`, Uint8Array.of(buf.length >> 8, buf.length & 0xff));
    const len = checkHeader(buf, 0, ctx);
    if (len !== buf.length) {
      throw headerError(HeaderSub.BadMessageLength, `length field ${len} but ${buf.length} octets given`, Uint8Array.of(len >> 8, len & 0xff));
    }
    const type = buf[18]!;
    const body = new Reader(buf, (what) => bodyOverrun(type, what), HEADER_LENGTH, len);
    switch (type) {
      case MessageType.Open:
        return { ok: true, message: decodeOpen(body) };
      case MessageType.Update: {
        const { message, error } = decodeUpdate(body, ctx);
        return error ? { ok: true, message, error } : { ok: true, message };
      }
      case MessageType.Notification:
        return { ok: true, message: decodeNotification(body) };
      case MessageType.Keepalive:
        return { ok: true, message: { type: 'KEEPALIVE' } };
      default: {
        // RFC 7313 §5: a ROUTE-REFRESH whose body is not 4 octets is 7/1, with the whole message as data.
        if (len !== 23) throw new BgpError(ErrorCode.RouteRefresh, 1, `ROUTE-REFRESH of ${len} octets`, { data: buf.slice(0, len) });
        const afi = body.u16();
        const subtype = body.u8();
        const safi = body.u8();
        return { ok: true, message: { type: 'ROUTE-REFRESH', family: familyOf(afi, safi), subtype } };
      }
    }
  } catch (err) {
    if (err instanceof BgpError) return { ok: false, error: err };
    // A bug of ours, not the peer's: still a typed error, never an exception to the caller.
    return { ok: false, error: new BgpError(ErrorCode.Cease, 8, `internal decode error: ${(err as Error).message}`) };
  }
}

function bodyOverrun(type: number, what: string): BgpError {
  if (type === MessageType.Update) return new BgpError(ErrorCode.UpdateMessage, 1, `${what} overruns the message`);
  if (type === MessageType.Open) return new BgpError(ErrorCode.OpenMessage, 0, `${what} overruns the message`);
  if (type === MessageType.RouteRefresh) return new BgpError(ErrorCode.RouteRefresh, 1, `${what} overruns the message`);
  return headerError(HeaderSub.BadMessageLength, `${what} overruns the message`);
}

const TYPE_CODES: Record<Message['type'], MessageType> = {
  OPEN: MessageType.Open,
  UPDATE: MessageType.Update,
  NOTIFICATION: MessageType.Notification,
  KEEPALIVE: MessageType.Keepalive,
  'ROUTE-REFRESH': MessageType.RouteRefresh,
};

/** Writes one whole message (header included) into `w`. Throws EncodeError/TypeError on bad input or an oversized message. */
export function writeMessage(w: Writer, m: Message, ctx: CodecContext = DEFAULT_CONTEXT): void {
  const start = w.pos;
  const code = TYPE_CODES[m.type];
  if (code === undefined) throw new EncodeError('type', `unknown message type "${(m as { type: string }).type}"`);
  w.fill(0xff, 16);
  const lenAt = w.reserve(2);
  w.u8(code);
  switch (m.type) {
    case 'OPEN': encodeOpen(w, m); break;
    case 'UPDATE': encodeUpdate(w, m, ctx); break;
    case 'NOTIFICATION': encodeNotification(w, m); break;
    case 'KEEPALIVE': break;
    case 'ROUTE-REFRESH': {
      const [afi, safi] = afiSafi(m.family);
      w.u16(afi).u8(m.subtype ?? 0).u8(safi);
      break;
    }
  }
  const len = w.pos - start;
  const max = m.type === 'OPEN' || m.type === 'KEEPALIVE' ? MAX_MESSAGE : maxMessageLength(ctx);
  if (len > max) {
    w.pos = start;
    throw new EncodeError('message', `${len} octets exceed the ${max}-octet maximum`);
  }
  w.buf.writeUInt16BE(len, lenAt);
}

/** Encodes one message to a new buffer. */
export function encodeMessage(m: Message, ctx: CodecContext = DEFAULT_CONTEXT): Buffer {
  const w = new Writer(m.type === 'UPDATE' ? 4096 : 256);
  writeMessage(w, m, ctx);
  return w.take();
}

/** KEEPALIVE bytes, shared. */
export const KEEPALIVE = encodeMessage({ type: 'KEEPALIVE' });
