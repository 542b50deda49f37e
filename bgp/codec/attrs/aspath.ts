// AS_PATH (RFC 4271 §4.3, §5.1.2) and AS4_PATH (RFC 6793 §3), 2- or 4-octet ASNs.
// Malformed per RFC 7606 §7.2: unknown segment type, overrun, a lone trailing octet, or a
// segment of length zero.
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import { EncodeError } from '../addr.js';
import type { AsSegment, AsSegmentType } from '../types.js';

const SEGMENT_NAMES: Record<number, AsSegmentType> = { 1: 'AS_SET', 2: 'AS_SEQUENCE', 3: 'AS_CONFED_SEQUENCE', 4: 'AS_CONFED_SET' };
const SEGMENT_CODES: Record<AsSegmentType, number> = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 };

export class MalformedValue extends Error {}

export function decodeSegments(r: Reader, as4: boolean): AsSegment[] {
  const segments: AsSegment[] = [];
  const width = as4 ? 4 : 2;
  while (r.remaining > 0) {
    if (r.remaining < 2) throw new MalformedValue('a single octet left after the last segment');
    const type = SEGMENT_NAMES[r.u8()];
    const count = r.u8();
    if (!type) throw new MalformedValue('unknown segment type');
    if (count === 0) throw new MalformedValue('segment of length zero');
    if (r.remaining < count * width) throw new MalformedValue('segment overruns the attribute');
    const asns = new Array<number>(count);
    for (let i = 0; i < count; i++) asns[i] = as4 ? r.u32() : r.u16();
    segments.push({ type, asns });
  }
  return segments;
}

export function encodeSegments(w: Writer, segments: AsSegment[], as4: boolean): void {
  for (const s of segments) {
    const code = SEGMENT_CODES[s.type];
    if (!code) throw new EncodeError('segments', `unknown segment type "${s.type}"`);
    if (!Array.isArray(s.asns) || s.asns.length === 0 || s.asns.length > 255) throw new EncodeError('segments', 'a segment holds 1 to 255 ASNs');
    w.u8(code).u8(s.asns.length);
    for (const asn of s.asns) {
      if (!Number.isInteger(asn) || asn < 0 || asn > (as4 ? 0xffffffff : 0xffff)) throw new EncodeError('asns', `${asn} does not fit ${as4 ? 4 : 2} octets`);
      if (as4) w.u32(asn);
      else w.u16(asn);
    }
  }
}

/** Number of ASNs that count for path length (RFC 4271 §9.1.2.2: a set counts as one, confed segments not at all). */
export function asPathLength(segments: readonly AsSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === 'AS_SEQUENCE') n += s.asns.length;
    else if (s.type === 'AS_SET') n += 1;
  }
  return n;
}
