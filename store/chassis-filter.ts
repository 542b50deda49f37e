// The view of one chassis: turns the store's global event stream into the events
// an agent on that chassis must act on. A port concerns the chassis it is bound
// to; a floating IP concerns the chassis of its port, of its standby port, and the
// chassis named in its `activeChassis` status. That last rule is what makes a move
// make-before-break: when a port moves from c1 to c2, c2 gets the port and the FIP
// (put), c1 loses the port but keeps the FIP while it is still the active chassis;
// once c2 has programmed NAT, announced and written activeChassis = c2, c1 gets the
// FIP's delete and withdraws. Networks, tenants, speaker settings and agent
// liveness records pass through; of the chassis objects only its own.
// Pure state machine: feed() events in, chassis events out; watchChassis() wires
// it to a store (snapshot, then watch from snapshot revision + 1).
import type { Chassis, FloatingIp, IntentObject, Kind, Port, SpeakerSettings } from './model.js';
import type { IntentEvent, IntentStore, IntentWatch, Known, Stored } from './store.js';

export interface ChassisEvent {
  type: 'put' | 'delete';
  kind: Kind;
  id: string;
  /** The object for a put; its last relevant version for a delete. */
  value: IntentObject;
  revision: number;
  /** For a put: the object with its own revisions (its last write may be older than `revision`: a FIP judged again when its port changed). */
  known?: Known;
}

export class ChassisFilter {
  /** Chassis of every port in the store (null: unbound). */
  private readonly portChassis = new Map<string, string | null>();
  private readonly ports = new Map<string, Port>();
  private readonly fips = new Map<string, FloatingIp>();
  private readonly fipsByPort = new Map<string, Set<string>>();
  /** Objects this chassis currently has (emitted as put, not yet deleted), by "kind/id". */
  private readonly present = new Map<string, IntentObject>();
  /** Create and last-write revision of every object in the store, by "kind/id". */
  private readonly revisions = new Map<string, { createRevision: number; modRevision: number }>();

  constructor(readonly chassis: string) {}

  /** Loads a snapshot of the store; returns the objects that concern this chassis. */
  seed(items: Stored[]): Array<{ kind: Kind; id: string; value: IntentObject; known: Known }> {
    const out: ChassisEvent[] = [];
    // Ports first, so floating IPs can be judged by their port's binding.
    const ordered = [...items].sort((a, b) => rank(a.kind) - rank(b.kind));
    for (const s of ordered) out.push(...this.feed({ type: 'put', kind: s.kind, id: s.id, value: s.value, prev: null, revision: s.modRevision, createRevision: s.createRevision }));
    return out.filter((e) => e.type === 'put').map(({ kind, id, value, known }) => ({ kind, id, value, known: known! }));
  }

  /** One global event in, the chassis events it implies out (possibly none). */
  feed(ev: IntentEvent): ChassisEvent[] {
    const out: ChassisEvent[] = [];
    if (ev.value) this.revisions.set(`${ev.kind}/${ev.id}`, { createRevision: ev.createRevision, modRevision: ev.revision });
    else this.revisions.delete(`${ev.kind}/${ev.id}`);
    switch (ev.kind) {
      case 'port': {
        const p = ev.value as Port | null;
        if (p) {
          this.ports.set(ev.id, p);
          this.portChassis.set(ev.id, p.chassis);
        } else {
          this.ports.delete(ev.id);
          this.portChassis.delete(ev.id);
        }
        const affected = [...(this.fipsByPort.get(ev.id) ?? [])];
        // A port arriving makes its FIPs relevant after it; a port leaving drops them before it.
        if (p && p.chassis === this.chassis) {
          this.set(out, 'port', ev.id, p, ev.revision);
          for (const f of affected) this.judgeFip(out, f, ev.revision);
        } else {
          for (const f of affected) this.judgeFip(out, f, ev.revision);
          this.unset(out, 'port', ev.id, ev.revision);
        }
        break;
      }
      case 'floatingip': {
        const old = this.fips.get(ev.id);
        if (old) for (const p of portsOf(old)) this.fipsByPort.get(p)?.delete(ev.id);
        const f = ev.value as FloatingIp | null;
        if (f) {
          this.fips.set(ev.id, f);
          for (const p of portsOf(f)) {
            let s = this.fipsByPort.get(p);
            if (!s) this.fipsByPort.set(p, (s = new Set()));
            s.add(ev.id);
          }
        } else this.fips.delete(ev.id);
        this.judgeFip(out, ev.id, ev.revision);
        break;
      }
      case 'chassis':
        if ((ev.value as Chassis | null)?.name === this.chassis || ev.id === this.chassis) this.pass(out, ev);
        break;
      case 'speaker':
        if ((ev.value as SpeakerSettings | null)?.id === 'default' || ev.id === 'default' || ev.id === this.chassis) this.pass(out, ev);
        break;
      default:
        this.pass(out, ev);
    }
    return out;
  }

  /** True when the chassis currently has this object. */
  has(kind: Kind, id: string): boolean {
    return this.present.has(`${kind}/${id}`);
  }

  private judgeFip(out: ChassisEvent[], id: string, revision: number): void {
    const f = this.fips.get(id);
    const mine = f !== undefined && (f.activeChassis === this.chassis || portsOf(f).some((p) => this.portChassis.get(p) === this.chassis));
    if (mine) this.set(out, 'floatingip', id, f, revision);
    else this.unset(out, 'floatingip', id, revision);
  }

  private pass(out: ChassisEvent[], ev: IntentEvent): void {
    if (ev.value) this.set(out, ev.kind, ev.id, ev.value, ev.revision);
    else this.unset(out, ev.kind, ev.id, ev.revision);
  }

  private set(out: ChassisEvent[], kind: Kind, id: string, value: IntentObject, revision: number): void {
    const k = `${kind}/${id}`;
    if (this.present.get(k) === value) return; // same object already emitted (re-judged, unchanged)
    this.present.set(k, value);
    const r = this.revisions.get(k) ?? { createRevision: revision, modRevision: revision };
    out.push({ type: 'put', kind, id, value, revision, known: { value, ...r } });
  }

  private unset(out: ChassisEvent[], kind: Kind, id: string, revision: number): void {
    const k = `${kind}/${id}`;
    const last = this.present.get(k);
    if (last === undefined) return;
    this.present.delete(k);
    out.push({ type: 'delete', kind, id, value: last, revision });
  }
}

function portsOf(f: FloatingIp): string[] {
  const out: string[] = [];
  if (f.portId) out.push(f.portId);
  if (f.standbyPortId) out.push(f.standbyPortId);
  return out;
}

function rank(k: Kind): number {
  return k === 'port' ? 0 : k === 'floatingip' ? 1 : 2;
}

/**
 * Snapshot + watch for one chassis: `initial` holds what concerns it now, then
 * `onEvents` receives each revision's chassis events (only non-empty batches).
 */
export async function watchChassis(
  store: IntentStore,
  chassis: string,
  onEvents: (events: ChassisEvent[]) => void,
  onError?: (err: Error) => void,
): Promise<{ initial: Array<{ kind: Kind; id: string; value: IntentObject; known: Known }>; revision: number; watch: IntentWatch }> {
  const filter = new ChassisFilter(chassis);
  const snap = await store.snapshot();
  const initial = filter.seed(snap.items);
  let batch: ChassisEvent[] = [];
  let batchRev = -1;
  const flush = (): void => {
    if (batch.length) onEvents(batch);
    batch = [];
  };
  const watch = await store.watch(
    { fromRevision: snap.revision + 1 },
    (ev) => {
      if (ev.revision !== batchRev) {
        flush();
        batchRev = ev.revision;
      }
      batch.push(...filter.feed(ev));
      // Events of one revision arrive in one synchronous run; flush when it ends.
      queueMicrotask(() => {
        if (batchRev === ev.revision) flush();
      });
    },
    onError,
  );
  return { initial, revision: snap.revision, watch };
}
