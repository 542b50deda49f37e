// Floating-IP allocation pools as pure functions: size of a network's pools, and a
// free address chosen at a random offset (randomness injected) so that concurrent
// allocators rarely pick the same candidate. Never enumerates a pool: the cost is
// O(pools + addresses in use), so an IPv6 /64 pool is as cheap as a /28.
import { bigToText, parseIp, type Family } from './address.js';
import type { ExternalNetwork } from './model.js';

interface Range {
  start: bigint;
  end: bigint;
  family: Family;
}

function ranges(network: ExternalNetwork): Range[] {
  const out: Range[] = [];
  for (const p of network.pools) {
    const s = parseIp(p.start);
    const e = parseIp(p.end);
    if (s.ok && e.ok) out.push({ start: s.value.value, end: e.value.value, family: s.value.family });
  }
  return out.sort((a, b) => (a.start < b.start ? -1 : 1));
}

/** Number of addresses in the network's pools. */
export function poolSize(network: ExternalNetwork): bigint {
  return ranges(network).reduce((n, r) => n + (r.end - r.start + 1n), 0n);
}

/** True when `address` lies in one of the network's pools. */
export function inPool(network: ExternalNetwork, address: string): boolean {
  const a = parseIp(address);
  return a.ok && ranges(network).some((r) => r.family === a.value.family && a.value.value >= r.start && a.value.value <= r.end);
}

/**
 * A free pool address, or undefined when every pool address is in `used`
 * (addresses in `used` outside the pools are ignored). `used` holds canonical text (as
 * the store keeps addresses), so a candidate is checked by its text and the used set is
 * never parsed: a probe costs O(candidates tried), not O(|used|). `random` returns [0, 1).
 */
export function pickFreeAddress(network: ExternalNetwork, used: ReadonlySet<string>, random: () => number): string | undefined {
  const rs = ranges(network);
  const total = rs.reduce((n, r) => n + (r.end - r.start + 1n), 0n);
  if (total === 0n) return undefined;
  const scale = 2n ** 52n;
  let offset = (BigInt(Math.floor(random() * Number(scale))) * total) / scale;
  // Linear probe from the random offset. |used| + 1 distinct candidates cannot all be used,
  // and after `total` steps every pool address was tried: whichever comes first decides.
  const steps = BigInt(used.size) + 1n < total ? BigInt(used.size) + 1n : total;
  for (let i = 0n; i < steps; i++) {
    const v = addressAt(rs, offset);
    const text = bigToText(v.value, v.family);
    if (!used.has(text)) return text;
    offset = (offset + 1n) % total;
  }
  return undefined;
}

function addressAt(rs: Range[], offset: bigint): { value: bigint; family: Family } {
  let rest = offset;
  for (const r of rs) {
    const size = r.end - r.start + 1n;
    if (rest < size) return { value: r.start + rest, family: r.family };
    rest -= size;
  }
  throw new Error('offset beyond pool');
}
