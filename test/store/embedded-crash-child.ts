// Child process for the embedded store's crash test: writes tenants with 8 writes
// in flight and prints "ack <id> <revision>" for each acknowledged write, until the
// parent SIGKILLs it. Small snapshots make crashes land around snapshot rotation too.
import { openEmbeddedStore } from '../../store/index.js';

const dir = process.argv[2]!;
const s = await openEmbeddedStore({ dir, snapshotEveryBytes: 16 * 1024 });
let n = 0;
async function writer(): Promise<void> {
  for (;;) {
    const id = `crash-${++n}`;
    const r = await s.put('tenant', { id, subnets: ['10.0.0.0/24'] });
    process.stdout.write(`ack ${id} ${r.modRevision}\n`);
  }
}
await Promise.all(Array.from({ length: 8 }, () => writer()));
