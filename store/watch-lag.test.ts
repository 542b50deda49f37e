// onWriteSeen (the agent's edgeflow_store_watch_lag_seconds): each write of this store is
// reported once, when its own watch delivers the revision; other writers' revisions and
// failed writes are not. Embedded backend.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EmbeddedKv } from './embedded.js';
import { createIntentStore } from './store.js';

test('onWriteSeen reports each own write once, when the watch delivers it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ef-lag-'));
  const kv = await EmbeddedKv.open({ dir, fsync: false });
  const lags: number[] = [];
  const mine = createIntentStore(kv, { onWriteSeen: (ms) => lags.push(ms) });
  const other = createIntentStore(kv);
  try {
    const seen: number[] = [];
    const w = await mine.watch({ fromRevision: (await mine.revision()) + 1 }, (ev) => seen.push(ev.revision));
    const a = await mine.put('tenant', { id: 't1', subnets: ['10.0.0.0/24'] });
    await other.put('tenant', { id: 't2', subnets: ['10.0.1.0/24'] });
    const b = await mine.update('tenant', 't1', (t) => ({ ...t, name: 'x' }));
    await assert.rejects(mine.put('tenant', { id: 't1', subnets: ['10.0.0.0/24'] }, { expectRevision: a.modRevision }));
    await mine.update('tenant', 't1', (t) => t); // no change: no write
    const until = Date.now() + 5000;
    while (seen.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen, [a.modRevision, a.modRevision + 1, b.modRevision]);
    assert.equal(lags.length, 2, `one report per own write: ${lags.join(', ')}`);
    for (const ms of lags) assert.ok(ms >= 0 && ms < 5000, String(ms));
    await w.cancel();
  } finally {
    await mine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
