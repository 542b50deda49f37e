// On-disk formats of the embedded store, as pure functions:
// - journal: one record per line, `<crc32 hex> <json>\n`; a torn or corrupt tail
//   (crash mid-append) ends the valid prefix and is cut off on open;
// - snapshot: the same framing around the whole state, written to a temp file,
//   fsynced and renamed over the old one, so it is either old or new, never torn.
import { crc32 } from 'node:zlib';

/** One committed change. `s` orders records; `r` is the store revision after it (unchanged for lease grants). */
export interface JournalRecord {
  s: number;
  r: number;
  /** Key operations: put {p, v, l?} or delete {d}. */
  o?: Array<{ p: string; v: string; l?: string } | { d: string }>;
  /** Leases granted: id and TTL in seconds. */
  lg?: Array<{ id: string; ttl: number }>;
  /** Leases ended (revoked or expired). */
  lr?: string[];
}

export interface SnapshotState {
  format: 'edgeflow-embedded/1';
  seq: number;
  revision: number;
  /** [key, value, createRevision, modRevision, version, lease|null] */
  entries: Array<[string, string, number, number, number, string | null]>;
  leases: Array<{ id: string; ttl: number }>;
  nextLeaseId: number;
}

export function frame(json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  const crc = crc32(body).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(`${crc} `, 'latin1'), body, Buffer.from('\n', 'latin1')]);
}

export function encodeRecord(rec: JournalRecord): Buffer {
  return frame(JSON.stringify(rec));
}

/** Parses one framed line (without the newline); undefined when the checksum or JSON is bad. */
export function unframe(line: Buffer): unknown {
  if (line.length < 10 || line[8] !== 0x20) return undefined;
  const crcText = line.subarray(0, 8).toString('latin1');
  if (!/^[0-9a-f]{8}$/.test(crcText)) return undefined;
  const body = line.subarray(9);
  if (crc32(body) !== parseInt(crcText, 16)) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

export interface DecodedJournal {
  records: JournalRecord[];
  /** Bytes of the valid prefix; the file is truncated to this when it is shorter than the file. */
  validBytes: number;
  /** Bytes after the valid prefix (a torn or corrupt tail). */
  discardedBytes: number;
}

/** Decodes a journal; stops at the first line that is incomplete, fails its checksum or does not follow its predecessor. */
export function decodeJournal(buf: Buffer): DecodedJournal {
  const records: JournalRecord[] = [];
  let pos = 0;
  let lastSeq = -Infinity;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break; // torn: no newline yet
    const rec = unframe(buf.subarray(pos, nl)) as JournalRecord | undefined;
    if (!rec || typeof rec.s !== 'number' || typeof rec.r !== 'number' || rec.s <= lastSeq) break;
    records.push(rec);
    lastSeq = rec.s;
    pos = nl + 1;
  }
  return { records, validBytes: pos, discardedBytes: buf.length - pos };
}

export function encodeSnapshot(s: SnapshotState): Buffer {
  return frame(JSON.stringify(s));
}

export function decodeSnapshot(buf: Buffer): SnapshotState | undefined {
  const end = buf.length > 0 && buf[buf.length - 1] === 0x0a ? buf.length - 1 : buf.length;
  const s = unframe(buf.subarray(0, end)) as SnapshotState | undefined;
  if (!s || s.format !== 'edgeflow-embedded/1' || !Array.isArray(s.entries)) return undefined;
  return s;
}
