// COMMUNITIES (RFC 1997, well-known values from the IANA registry) and
// LARGE_COMMUNITIES (RFC 8092). Text: "65000:100", well-known names, "1:2:3".
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import { EncodeError } from '../addr.js';

const WELL_KNOWN: Array<[number, string]> = [
  [0xffff0000, 'GRACEFUL_SHUTDOWN'],
  [0xffff0001, 'ACCEPT_OWN'],
  [0xffff0006, 'LLGR_STALE'],
  [0xffff0007, 'NO_LLGR'],
  [0xffff029a, 'BLACKHOLE'],
  [0xffffff01, 'NO_EXPORT'],
  [0xffffff02, 'NO_ADVERTISE'],
  [0xffffff03, 'NO_EXPORT_SUBCONFED'],
  [0xffffff04, 'NOPEER'],
];
const NAME_OF = new Map(WELL_KNOWN);
const VALUE_OF = new Map(WELL_KNOWN.map(([v, n]) => [n, v]));
// FRR/BIRD spellings accepted on input.
for (const [alias, name] of [['no-export', 'NO_EXPORT'], ['no-advertise', 'NO_ADVERTISE'], ['local-as', 'NO_EXPORT_SUBCONFED'], ['no-peer', 'NOPEER'], ['graceful-shutdown', 'GRACEFUL_SHUTDOWN'], ['blackhole', 'BLACKHOLE'], ['llgr-stale', 'LLGR_STALE'], ['no-llgr', 'NO_LLGR'], ['accept-own', 'ACCEPT_OWN']] as const) {
  VALUE_OF.set(alias, VALUE_OF.get(name)!);
}

export function formatCommunity(v: number): string {
  return NAME_OF.get(v) ?? `${Math.floor(v / 65536)}:${v & 0xffff}`;
}

export function parseCommunity(s: string, field = 'communities'): number {
  const named = VALUE_OF.get(s);
  if (named !== undefined) return named;
  const m = typeof s === 'string' ? /^(\d{1,5}):(\d{1,5})$/.exec(s) : null;
  if (!m || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff) throw new EncodeError(field, `"${s}" is not a community (ASN:value or a well-known name)`);
  return Number(m[1]) * 65536 + Number(m[2]);
}

export function decodeCommunities(r: Reader): string[] {
  const out: string[] = [];
  while (r.remaining > 0) out.push(formatCommunity(r.u32()));
  return out;
}

export function encodeCommunities(w: Writer, values: string[]): void {
  for (const v of values) w.u32(parseCommunity(v));
}

export function decodeLargeCommunities(r: Reader): string[] {
  const out: string[] = [];
  while (r.remaining > 0) out.push(`${r.u32()}:${r.u32()}:${r.u32()}`);
  return out;
}

export function parseLargeCommunity(s: string, field = 'largeCommunities'): [number, number, number] {
  const m = typeof s === 'string' ? /^(\d{1,10}):(\d{1,10}):(\d{1,10})$/.exec(s) : null;
  const parts = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (!m || parts.some((p) => p > 0xffffffff)) throw new EncodeError(field, `"${s}" is not a large community (A:B:C, 32 bits each)`);
  return parts as [number, number, number];
}

export function encodeLargeCommunities(w: Writer, values: string[]): void {
  for (const v of values) for (const p of parseLargeCommunity(v)) w.u32(p);
}
