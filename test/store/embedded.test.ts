// The embedded driver: the shared conformance suite, plus what only a file-backed
// store has — same data and revision after reopen, acknowledged writes survive a
// SIGKILL (also across snapshot rotation), a torn journal tail is cut off, and one
// process per directory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { EmbeddedKv, StoreError, createIntentStore, openEmbeddedStore, type IntentStore } from '../../store/index.js';
import { storeConformance, uid } from './conformance.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'edgeflow-embedded-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let shared: IntentStore | undefined;
storeConformance({
  name: 'embedded',
  skip: false,
  ttl: 1,
  async setup() {
    shared = await openEmbeddedStore({ dir: tempDir() });
  },
  async teardown() {
    await shared?.close();
  },
  store: () => shared!,
  // One process, one store: "clients" are concurrent callers of the same instance.
  clients: async (n) => Array.from({ length: n }, () => shared!),
});

describe('embedded store on disk', () => {
  test('reopen gives the same data and revision; history after reopen starts at the snapshot', async () => {
    const dir = tempDir();
    const s1 = await openEmbeddedStore({ dir });
    await s1.put('tenant', { id: 't1', subnets: ['10.0.0.0/24'] });
    await s1.put('network', { id: 'ext', cidr: '198.51.100.0/24', pools: [{ start: '198.51.100.10', end: '198.51.100.20' }] });
    const f = await s1.allocateFloatingIp({ network: 'ext', tenant: 't1' });
    await s1.delete('tenant', 'gone');
    const rev = await s1.revision();
    const snap1 = await s1.snapshot();
    await s1.close();
    const s2 = await openEmbeddedStore({ dir });
    assert.equal(await s2.revision(), rev);
    assert.deepEqual(await s2.snapshot(), snap1);
    // Unique indexes came back too: the same address cannot be taken again.
    await assert.rejects(s2.allocateFloatingIp({ network: 'ext', tenant: 't1', address: f.value.address }), (e: StoreError) => e.code === 'EF_STORE_UNIQUE');
    // The journal replays into watch history: a watch from revision 1 sees everything.
    const seen: number[] = [];
    const w = await s2.watch({ fromRevision: 1 }, (ev) => seen.push(ev.revision));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen, [1, 2, 3]);
    await w.cancel();
    await s2.close();
  });

  test('snapshot rotation: many writes with a tiny snapshot threshold, then reopen', async () => {
    const dir = tempDir();
    const s1 = await openEmbeddedStore({ dir, snapshotEveryBytes: 4096 });
    await Promise.all(Array.from({ length: 300 }, (_, i) => s1.put('tenant', { id: `t${i}`, subnets: [`10.${i >> 8}.${i & 255}.0/24`] })));
    for (let i = 0; i < 300; i += 3) await s1.delete('tenant', `t${i}`);
    const rev = await s1.revision();
    await s1.close();
    assert.ok(statSync(join(dir, 'snapshot')).size > 0, 'a snapshot was written');
    assert.ok(statSync(join(dir, 'journal')).size < 4096 + 1024, 'the journal was rotated');
    const s2 = await openEmbeddedStore({ dir });
    assert.equal(await s2.revision(), rev);
    assert.equal((await s2.list('tenant')).items.length, 200);
    await s2.close();
  });

  test('a torn last journal record is cut off; earlier writes and later writes are fine', async () => {
    const dir = tempDir();
    const s1 = await openEmbeddedStore({ dir });
    for (let i = 0; i < 5; i++) await s1.put('tenant', { id: `t${i}`, subnets: ['10.0.0.0/24'] });
    await s1.close();
    const journal = join(dir, 'journal');
    const good = readFileSync(journal);
    // A crash in the middle of an append: half a record, no newline.
    const last = good.subarray(good.lastIndexOf(0x0a, good.length - 2) + 1);
    appendFileSync(journal, last.subarray(0, Math.floor(last.length / 2)));
    const kv = await EmbeddedKv.open({ dir });
    assert.equal(kv.repairedBytes, Math.floor(last.length / 2));
    const s2 = createIntentStore(kv);
    assert.equal(await s2.revision(), 5);
    assert.equal((await s2.list('tenant')).items.length, 5);
    await s2.put('tenant', { id: 't5', subnets: ['10.0.0.0/24'] });
    await s2.close();
    assert.equal(readFileSync(journal).subarray(0, good.length).compare(good), 0);
    const s3 = await openEmbeddedStore({ dir });
    assert.equal(await s3.revision(), 6);
    await s3.close();
  });

  test('acknowledged writes survive SIGKILL of the writing process (child process)', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [join(fileURLToPath(new URL('.', import.meta.url)), 'embedded-crash-child.js'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<string, number>();
    let buf = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const [, id, rev] = buf.slice(0, nl).split(' ');
          buf = buf.slice(nl + 1);
          acked.set(id!, Number(rev));
          if (acked.size === 400 && child.pid) {
            process.kill(child.pid, 'SIGKILL');
            resolve();
          }
        }
      });
      child.once('exit', () => (acked.size >= 400 ? resolve() : reject(new Error(`child exited early: ${stderr}`))));
    });
    await new Promise((r) => child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r));
    const s = await openEmbeddedStore({ dir }); // takes over the dead child's lock
    const have = new Set((await s.list('tenant')).items.map((t) => t.id));
    const missing = [...acked.keys()].filter((id) => !have.has(id));
    assert.deepEqual(missing, [], 'acknowledged writes lost');
    assert.ok((await s.revision()) >= Math.max(...acked.values()));
    await s.put('tenant', { id: uid('after'), subnets: ['10.0.0.0/24'] });
    await s.close();
  });

  test('one process per directory', async () => {
    const dir = tempDir();
    const s1 = await openEmbeddedStore({ dir });
    await assert.rejects(openEmbeddedStore({ dir }), (e: StoreError) => e.code === 'EF_STORE_UNAVAILABLE' && /in use by process/.test(e.message));
    await s1.close();
    const s2 = await openEmbeddedStore({ dir });
    await s2.close();
  });
});
