// Strict IPv4/IPv6 address and prefix handling for nat/: parse (no shorthand forms),
// canonical text (RFC 5952 for IPv6, as nft and iproute2 print it), prefix membership
// and the "is it unicast" test (RFC 1122 §3.2.1.3, RFC 1112, RFC 4291 §2.4/§2.5).

export type Family = 4 | 6;
export interface Ip { family: Family; value: bigint; text: string }
export interface Prefix { family: Family; base: bigint; len: number; text: string }

/** A dotted quad (four decimal octets 0-255, no leading zeros) as a number; one pass, no regex. */
function v4Number(s: string): number | undefined {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return undefined; // leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  return dots === 3 && digits > 0 ? n * 256 + octet : undefined;
}

function parseV4(s: string): bigint | undefined {
  const n = v4Number(s);
  return n === undefined ? undefined : BigInt(n);
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return undefined;
  let tail4: bigint | undefined;
  let body = s;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    tail4 = parseV4(s.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    body = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] | undefined => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0] ?? '');
  const rest = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !rest) return undefined;
  const n = head.length + rest.length;
  if (halves.length === 1 ? n !== 8 : n > 7) return undefined;
  const all = [...head, ...Array<string>(8 - n).fill('0'), ...rest];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | tail4;
  return v;
}

export function formatIp(family: Family, v: bigint): string {
  if (family === 4) {
    const n = Number(v);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952 §4.2: compress the longest run (>= 2) of zero groups, the first one on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * The canonical text of an address (as nft and iproute2 print it), or undefined. An IPv4
 * dotted quad that parses is canonical already (no leading zeros): returned as it is.
 */
export function canonicalIp(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  if (v4Number(s) !== undefined) return s;
  const v6 = s.includes(':') ? parseV6(s) : undefined;
  return v6 === undefined ? undefined : formatIp(6, v6);
}

/** Parses an address; undefined when it is not a plain IPv4 dotted quad or IPv6 text. */
export function parseIp(s: unknown): Ip | undefined {
  if (typeof s !== 'string') return undefined;
  const v4 = parseV4(s);
  if (v4 !== undefined) return { family: 4, value: v4, text: s };
  const v6 = s.includes(':') ? parseV6(s) : undefined;
  if (v6 !== undefined) return { family: 6, value: v6, text: formatIp(6, v6) };
  return undefined;
}

/** Parses `addr/len`; the host bits must be zero. */
export function parsePrefix(s: unknown): Prefix | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIp(m[1]);
  const len = Number(m[2]);
  if (!ip || len > (ip.family === 4 ? 32 : 128)) return undefined;
  const bits = BigInt(ip.family === 4 ? 32 : 128);
  const hostMask = (1n << (bits - BigInt(len))) - 1n;
  if ((ip.value & hostMask) !== 0n) return undefined;
  return { family: ip.family, base: ip.value, len, text: `${ip.text}/${len}` };
}

export function prefixContains(p: Prefix, ip: Ip): boolean {
  if (p.family !== ip.family) return false;
  if (p.family === 4) {
    // numbers, not bigint shifts: this runs for every address of a 10,000-FIP state
    if (p.len === 0) return true;
    const shift = 32 - p.len;
    return Math.floor(Number(ip.value) / 2 ** shift) === Math.floor(Number(p.base) / 2 ** shift);
  }
  const bits = 128n;
  const shift = bits - BigInt(p.len);
  return ip.value >> shift === p.base >> shift;
}

const NOT_UNICAST: Record<Family, Array<[Prefix, string]>> = {
  4: ([['0.0.0.0/8', 'this-network (RFC 1122 §3.2.1.3)'], ['127.0.0.0/8', 'loopback (RFC 1122 §3.2.1.3)'],
    ['169.254.0.0/16', 'link-local (RFC 3927)'], ['224.0.0.0/4', 'multicast (RFC 1112)'],
    ['240.0.0.0/4', 'reserved or broadcast (RFC 1112 §4)']] as const).map(([p, why]) => [parsePrefix(p)!, why]),
  6: ([['::/128', 'unspecified (RFC 4291 §2.5.2)'], ['::1/128', 'loopback (RFC 4291 §2.5.3)'],
    ['fe80::/10', 'link-local (RFC 4291 §2.5.6)'], ['ff00::/8', 'multicast (RFC 4291 §2.7)'],
    ['::ffff:0:0/96', 'IPv4-mapped (RFC 4291 §2.5.5.2)']] as const).map(([p, why]) => [parsePrefix(p)!, why]),
};

/** Why an address cannot be a unicast host address, or undefined when it can. */
export function notUnicastReason(ip: Ip): string | undefined {
  for (const [p, why] of NOT_UNICAST[ip.family]) if (prefixContains(p, ip)) return why;
  return undefined;
}
