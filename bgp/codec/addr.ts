// Address text forms used in the codec's JSON: IPv4 dotted quad, IPv6 per RFC 5952,
// prefixes as "198.51.100.7/32" (the prefix octets as sent, host bits included), MACs
// as "02:00:00:00:00:01", opaque bytes as lowercase hex. Parsers throw EncodeError.

/** Thrown when a value given for encoding is not valid; names the field. */
export class EncodeError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'EncodeError';
  }
}

export function formatIPv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** Formats 16 octets (or fewer, zero-filled) per RFC 5952: lowercase, longest zero run compressed. */
export function formatIPv6(b: Uint8Array, at = 0, n = 16): string {
  const g: number[] = new Array(8);
  for (let i = 0; i < 8; i++) {
    const hi = 2 * i < n ? b[at + 2 * i]! : 0;
    const lo = 2 * i + 1 < n ? b[at + 2 * i + 1]! : 0;
    g[i] = (hi << 8) | lo;
  }
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    // RFC 5952 §5: an IPv4-mapped address keeps its dotted tail
    return `::ffff:${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}`;
  }
  const hex = (from: number, to: number) => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

export function parseIPv4(s: string, field = 'address'): Uint8Array {
  const out = new Uint8Array(4);
  if (!parseIPv4Into(s, out, 0)) throw new EncodeError(field, `"${s}" is not an IPv4 address`);
  return out;
}

function parseIPv4Into(s: string, out: Uint8Array, at: number): boolean {
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || val > 255 || part > 3) return false;
      out[at + part++] = val;
      val = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && val === 0) return false; // no leading zeros
      val = val * 10 + (c - 48);
      if (++digits > 3) return false;
    } else return false;
  }
  return part === 4;
}

export function parseIPv6(s: string, field = 'address'): Uint8Array {
  const out = new Uint8Array(16);
  const bad = () => new EncodeError(field, `"${s}" is not an IPv6 address`);
  let str = s;
  let tail: Uint8Array | undefined;
  const lastColon = str.lastIndexOf(':');
  if (str.indexOf('.', lastColon) > 0) {
    tail = new Uint8Array(4);
    if (!parseIPv4Into(str.slice(lastColon + 1), tail, 0)) throw bad();
    str = `${str.slice(0, lastColon + 1)}0:0`;
  }
  const halves = str.split('::');
  if (halves.length > 2) throw bad();
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((x) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(x)) throw bad();
    return parseInt(x, 16);
  }));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + rest.length > 7) throw bad();
  const groups = [...head, ...new Array(8 - head.length - rest.length).fill(0), ...rest];
  groups.forEach((v, i) => { out[2 * i] = v >> 8; out[2 * i + 1] = v & 0xff; });
  if (tail) out.set(tail, 12);
  return out;
}

export function isIPv6Text(s: string): boolean {
  return s.includes(':');
}

/** Parses either family; 4 or 16 octets. */
export function parseIP(s: string, field = 'address'): Uint8Array {
  return isIPv6Text(s) ? parseIPv6(s, field) : parseIPv4(s, field);
}

export function formatIP(b: Uint8Array): string {
  return b.length === 4 ? formatIPv4(b) : formatIPv6(b);
}

/** Splits "addr/len" and checks the length against the family's maximum. */
export function parsePrefix(s: string, field = 'prefix'): { addr: Uint8Array; len: number; v6: boolean } {
  const slash = s.indexOf('/');
  if (slash < 0) throw new EncodeError(field, `"${s}" is not a prefix (expected address/length)`);
  const v6 = isIPv6Text(s);
  const addr = v6 ? parseIPv6(s.slice(0, slash), field) : parseIPv4(s.slice(0, slash), field);
  const lenText = s.slice(slash + 1);
  const len = Number(lenText);
  if (!/^\d{1,3}$/.test(lenText) || len > (v6 ? 128 : 32)) throw new EncodeError(field, `"${s}" has an invalid prefix length`);
  return { addr, len, v6 };
}

export function formatMac(b: Uint8Array, at = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[at + i]!.toString(16).padStart(2, '0');
  return s;
}

export function parseMac(s: string, field = 'mac'): Uint8Array {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s)) throw new EncodeError(field, `"${s}" is not a MAC address`);
  return Uint8Array.from(s.split(':').map((x) => parseInt(x, 16)));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string, field = 'value'): Uint8Array {
  if (typeof s !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(s)) throw new EncodeError(field, `"${String(s)}" is not hex`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** Colon-separated hex of any length (ESIs): "00:11:22:...". */
export function formatColonHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parseColonHex(s: string, n: number, field: string): Uint8Array {
  const parts = typeof s === 'string' ? s.split(':') : [];
  if (parts.length !== n || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) throw new EncodeError(field, `"${String(s)}" is not ${n} colon-separated hex octets`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}
