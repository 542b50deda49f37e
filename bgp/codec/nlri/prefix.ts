// Prefix NLRI: IPv4/IPv6 unicast and multicast (RFC 4271 §4.3, RFC 4760 §5), labeled
// unicast (RFC 8277 §2), VPN-IPv4/IPv6 (RFC 4364 §4.3.4, RFC 4659 §3), each with an
// optional add-path path ID (RFC 7911 §3). The hot path: no allocation but the result.
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import { EncodeError, formatIPv6, parsePrefix } from '../addr.js';
import { formatRd, parseRd } from './rd.js';
import type { LabeledNlri, PrefixNlri, VpnNlri } from '../types.js';
import type { BgpError } from '../errors.js';

export type NlriError = (what: string) => BgpError;

const v6buf = new Uint8Array(16);

/** Reads `n` prefix octets for a prefix of `len` bits and formats "addr/len". */
function readPrefix(r: Reader, len: number, v6: boolean, err: NlriError): string {
  const n = (len + 7) >> 3;
  if (r.pos + n > r.end) throw err(`prefix /${len} overruns the NLRI field`);
  const b = r.buf;
  const p = r.pos;
  r.pos += n;
  if (!v6) {
    return `${n > 0 ? b[p] : 0}.${n > 1 ? b[p + 1] : 0}.${n > 2 ? b[p + 2] : 0}.${n > 3 ? b[p + 3] : 0}/${len}`;
  }
  v6buf.fill(0);
  for (let i = 0; i < n; i++) v6buf[i] = b[p + i]!;
  return `${formatIPv6(v6buf)}/${len}`;
}

/**
 * A decoded IPv4 prefix: the address as a 32-bit number and the length; its text form
 * is made only when asked for (`prefix`, JSON). Decoding a full table makes no strings.
 */
export class Prefix4 implements PrefixNlri {
  constructor(readonly addr: number, readonly len: number, readonly pathId?: number) {}

  get prefix(): string {
    const a = this.addr;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${this.len}`;
  }

  toJSON(): PrefixNlri {
    return this.pathId === undefined ? { prefix: this.prefix } : { prefix: this.prefix, pathId: this.pathId };
  }
}

/** Decodes prefixes until the reader is empty (IPv4 NLRI/withdrawn fields and MP unicast). */
export function decodePrefixes(r: Reader, v6: boolean, addPath: boolean, out: PrefixNlri[], err: NlriError): void {
  const max = v6 ? 128 : 32;
  const b = r.buf;
  while (r.pos < r.end) {
    let pathId: number | undefined;
    if (addPath) {
      if (r.pos + 4 > r.end) throw err('path identifier overruns the NLRI field');
      pathId = r.u32();
    }
    if (r.pos >= r.end) throw err('prefix length missing');
    const len = b[r.pos++]!;
    if (len > max) throw err(`prefix length ${len} is more than ${max}`);
    if (v6) {
      const prefix = readPrefix(r, len, v6, err);
      out.push(pathId === undefined ? { prefix } : { prefix, pathId });
      continue;
    }
    const n = (len + 7) >> 3;
    const p = r.pos;
    if (p + n > r.end) throw err(`prefix /${len} overruns the NLRI field`);
    r.pos = p + n;
    const addr = n === 4 ? ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0
      : ((n > 0 ? b[p]! << 24 : 0) | (n > 1 ? b[p + 1]! << 16 : 0) | (n > 2 ? b[p + 2]! << 8 : 0)) >>> 0;
    out.push(new Prefix4(addr, len, pathId));
  }
}

function writePrefixBits(w: Writer, addr: Uint8Array, len: number): void {
  const n = (len + 7) >> 3;
  for (let i = 0; i < n; i++) w.u8(addr[i]!);
}

function checkFamily(v6: boolean, isV6: boolean, s: string): void {
  if (v6 !== isV6) throw new EncodeError('prefix', `"${s}" is not an ${v6 ? 'IPv6' : 'IPv4'} prefix`);
}

export function encodePrefix(w: Writer, n: PrefixNlri, v6: boolean, addPath: boolean): void {
  if (addPath) w.u32(n.pathId ?? 0);
  if (n instanceof Prefix4) {
    if (v6) throw new EncodeError('prefix', `"${n.prefix}" is not an IPv6 prefix`);
    const bytes = (n.len + 7) >> 3;
    w.u8(n.len);
    for (let i = 0; i < bytes; i++) w.u8(n.addr >>> (24 - 8 * i));
    return;
  }
  const p = parsePrefix(n.prefix);
  checkFamily(v6, p.v6, n.prefix);
  w.u8(p.len);
  writePrefixBits(w, p.addr, p.len);
}

/** RFC 8277 §2.4: withdraw labels that end a stack without the bottom-of-stack bit. */
function isWithdrawLabel(entry: number): boolean {
  return entry === 0x800000 || entry === 0x000000;
}

function readLabels(r: Reader, bitsLeft: number, err: NlriError): { stack: number[]; bits: number } {
  const stack: number[] = [];
  let bits = bitsLeft;
  for (;;) {
    if (bits < 24) throw err('label stack overruns the prefix length');
    const e = r.u24();
    bits -= 24;
    stack.push(e);
    if ((e & 1) === 1 || isWithdrawLabel(e)) break;
  }
  return { stack, bits };
}

function setLabels(n: LabeledNlri, stack: number[]): void {
  const canonical = stack.every((e, i) => (e & 0xe) === 0 && ((e & 1) === 1) === (i === stack.length - 1));
  if (canonical) n.labels = stack.map((e) => e >>> 4);
  else n.labelStack = stack;
}

function labelEntries(n: LabeledNlri): number[] {
  if (n.labelStack) return n.labelStack;
  const labels = n.labels ?? [];
  if (labels.length === 0) throw new EncodeError('labels', 'at least one label is needed');
  return labels.map((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l > 0xfffff) throw new EncodeError('labels', `${l} is not a 20-bit label`);
    return (l << 4) | (i === labels.length - 1 ? 1 : 0);
  });
}

/** Labeled unicast (withRd false) or VPN (withRd true) prefixes until the reader is empty. */
export function decodeLabeled(r: Reader, v6: boolean, withRd: boolean, addPath: boolean, out: Array<LabeledNlri | VpnNlri>, err: NlriError): void {
  const max = v6 ? 128 : 32;
  while (r.pos < r.end) {
    const pathId = addPath ? r.u32('path identifier') : undefined;
    const totalBits = r.u8('prefix length');
    const { stack, bits } = readLabels(r, totalBits, err);
    let left = bits;
    let rd: string | undefined;
    if (withRd) {
      if (left < 64) throw err('route distinguisher overruns the prefix length');
      r.need(8, 'route distinguisher');
      rd = formatRd(r.buf, r.pos);
      r.pos += 8;
      left -= 64;
    }
    if (left > max) throw err(`prefix length ${left} is more than ${max}`);
    const prefix = readPrefix(r, left, v6, err);
    const n: LabeledNlri | VpnNlri = rd === undefined ? { prefix } : { rd, prefix };
    setLabels(n, stack);
    if (pathId !== undefined) n.pathId = pathId;
    out.push(n);
  }
}

export function encodeLabeled(w: Writer, n: LabeledNlri | VpnNlri, v6: boolean, withRd: boolean, addPath: boolean): void {
  if (addPath) w.u32(n.pathId ?? 0);
  const entries = labelEntries(n);
  const p = parsePrefix(n.prefix);
  checkFamily(v6, p.v6, n.prefix);
  const bits = entries.length * 24 + (withRd ? 64 : 0) + p.len;
  if (bits > 255) throw new EncodeError('prefix', 'label stack, RD and prefix exceed 255 bits');
  w.u8(bits);
  for (const e of entries) w.u24(e);
  if (withRd) {
    if (!('rd' in n) || typeof n.rd !== 'string') throw new EncodeError('rd', 'a VPN route needs a route distinguisher');
    w.bytes(parseRd(n.rd));
  }
  writePrefixBits(w, p.addr, p.len);
}
