// Test helpers for bgp/rib (used by the *.test.ts beside it): UPDATE values to feed the
// RIB, and a decoder that replays what drain() produced into the routes a peer would hold.
import { decodeMessage, DEFAULT_CONTEXT, type CodecContext, type Family, type Nlri, type PathAttribute, type UpdateMessage } from '../codec/index.js';
import { endOfRibFamily, type Rib } from './rib.js';
import { keyText, routeKey } from './keys.js';

export function update(prefixes: string[], attrs: PathAttribute[], nextHop = '192.0.2.1'): UpdateMessage {
  return { type: 'UPDATE', withdrawn: [], attributes: [...attrs, { type: 'NEXT_HOP', value: nextHop }], nlri: prefixes.map((prefix) => ({ prefix })) };
}

export function withdraw(prefixes: string[]): UpdateMessage {
  return { type: 'UPDATE', withdrawn: prefixes.map((prefix) => ({ prefix })), attributes: [], nlri: [] };
}

export function base(asns: number[], extra: PathAttribute[] = []): PathAttribute[] {
  return [{ type: 'ORIGIN', value: 'IGP' }, { type: 'AS_PATH', segments: asns.length ? [{ type: 'AS_SEQUENCE', asns }] : [] }, ...extra];
}

export interface Received {
  family: Family;
  nlri: Nlri;
  attrs: PathAttribute[];
  nextHop: string[];
}

/** What a peer learns from a list of messages: routes by "family|key(|pathId)", End-of-RIB families, refresh markers, counts. */
export class PeerView {
  readonly routes = new Map<string, Received>();
  readonly eor: Family[] = [];
  readonly markers: Array<{ family: Family; subtype: number }> = [];
  updates = 0;
  announcements = 0;
  withdrawals = 0;
  maxSize = 0;
  readonly seenTwice: string[] = [];

  constructor(readonly ctx: CodecContext = DEFAULT_CONTEXT) {}

  private id(family: Family, n: Nlri): string {
    return `${family}|${keyText(routeKey(family, n))}${n.pathId !== undefined ? `|${n.pathId}` : ''}`;
  }

  apply(msgs: Buffer[]): this {
    for (const b of msgs) {
      this.maxSize = Math.max(this.maxSize, b.length);
      const d = decodeMessage(b, this.ctx);
      if (!d.ok) throw new Error(`drained message does not decode: ${d.error.message}`);
      if (d.error) throw new Error(`drained message has an error: ${d.error.message}`);
      const m = d.message;
      if (m.type === 'ROUTE-REFRESH') {
        this.markers.push({ family: m.family, subtype: m.subtype });
        continue;
      }
      if (m.type !== 'UPDATE') throw new Error(`unexpected ${m.type}`);
      const eor = endOfRibFamily(m);
      if (eor) {
        this.eor.push(eor);
        continue;
      }
      this.updates++;
      const seen = new Set<string>();
      const note = (id: string) => {
        if (seen.has(id)) this.seenTwice.push(id);
        seen.add(id);
      };
      for (const n of m.withdrawn) {
        note(this.id('ipv4-unicast', n));
        this.routes.delete(this.id('ipv4-unicast', n));
        this.withdrawals++;
      }
      const attrs = m.attributes.filter((a) => a.type !== 'MP_REACH_NLRI' && a.type !== 'MP_UNREACH_NLRI' && a.type !== 'NEXT_HOP');
      for (const a of m.attributes) {
        if (a.type === 'MP_UNREACH_NLRI') {
          for (const n of a.withdrawn) {
            note(this.id(a.family, n));
            this.routes.delete(this.id(a.family, n));
            this.withdrawals++;
          }
        }
        if (a.type === 'MP_REACH_NLRI') {
          for (const n of a.nlri) {
            note(this.id(a.family, n));
            this.routes.set(this.id(a.family, n), { family: a.family, nlri: n, attrs, nextHop: a.nextHop });
            this.announcements++;
          }
        }
      }
      const nh = m.attributes.find((a) => a.type === 'NEXT_HOP');
      for (const n of m.nlri) {
        note(this.id('ipv4-unicast', n));
        this.routes.set(this.id('ipv4-unicast', n), { family: 'ipv4-unicast', nlri: n, attrs, nextHop: nh && nh.type === 'NEXT_HOP' ? [nh.value] : [] });
        this.announcements++;
      }
    }
    return this;
  }

  /** Drains everything pending for `peer` (in chunks of `chunk` bytes) and applies it. */
  drainFrom(rib: Rib, peer: string, chunk = 1 << 16): this {
    for (let i = 0; i < 100000; i++) {
      const msgs = rib.drain(peer, chunk);
      if (msgs.length === 0) return this;
      this.apply(msgs);
    }
    throw new Error('drain never ends');
  }

  get(key: string): Received | undefined {
    return this.routes.get(key);
  }

  attr<T extends PathAttribute['type']>(key: string, type: T): Extract<PathAttribute, { type: T }> | undefined {
    return this.routes.get(key)?.attrs.find((a) => a.type === type) as Extract<PathAttribute, { type: T }> | undefined;
  }
}
