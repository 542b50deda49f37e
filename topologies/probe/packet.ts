// Wire format of the failover probe (UDP, big-endian):
//   request  'EFPQ' u32 seq  f64 sentAt (sender's monotonic clock, ms)      16 bytes (+ padding)
//   reply    'EFPR' u32 seq  f64 sentAt (echoed)  u8 nameLength  name (UTF-8) — the VM that answered
// The echo side is stateless: it copies seq and sentAt and adds its own name.
export const REQUEST_MAGIC = 0x45465051; // 'EFPQ'
export const REPLY_MAGIC = 0x45465052; // 'EFPR'
export const REQUEST_LENGTH = 16;

export interface ProbeRequest {
  seq: number;
  sentAt: number;
}
export interface ProbeReply extends ProbeRequest {
  from: string;
}

export function encodeRequest(r: ProbeRequest, size = REQUEST_LENGTH): Buffer {
  const b = Buffer.alloc(Math.max(size, REQUEST_LENGTH));
  b.writeUInt32BE(REQUEST_MAGIC, 0);
  b.writeUInt32BE(r.seq >>> 0, 4);
  b.writeDoubleBE(r.sentAt, 8);
  return b;
}

export function decodeRequest(b: Buffer): ProbeRequest | undefined {
  if (b.length < REQUEST_LENGTH || b.readUInt32BE(0) !== REQUEST_MAGIC) return undefined;
  return { seq: b.readUInt32BE(4), sentAt: b.readDoubleBE(8) };
}

export function encodeReply(r: ProbeReply): Buffer {
  const name = Buffer.from(r.from, 'utf8').subarray(0, 255);
  const b = Buffer.alloc(REQUEST_LENGTH + 1 + name.length);
  b.writeUInt32BE(REPLY_MAGIC, 0);
  b.writeUInt32BE(r.seq >>> 0, 4);
  b.writeDoubleBE(r.sentAt, 8);
  b.writeUInt8(name.length, 16);
  name.copy(b, 17);
  return b;
}

export function decodeReply(b: Buffer): ProbeReply | undefined {
  if (b.length < REQUEST_LENGTH + 1 || b.readUInt32BE(0) !== REPLY_MAGIC) return undefined;
  const n = b.readUInt8(16);
  if (b.length < 17 + n) return undefined;
  return { seq: b.readUInt32BE(4), sentAt: b.readDoubleBE(8), from: b.toString('utf8', 17, 17 + n) };
}
