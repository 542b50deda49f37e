// The nftd reply framer: frames built by hand (a naive builder, not the helper), fed whole
// and split at every byte offset, must come out the same; malformed headers are errors.
// The client without root: a helper that cannot start, close(), and process lifetime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { NftdParser, nftHelper, type NftdFrame } from './nftd.js';
import { NatError } from './errors.js';
import { NatManager } from './manager.js';

/** "<rc> <out bytes> <err bytes>\n" + out + err, lengths counted in UTF-8 bytes. */
function reply(rc: number, out: string, err: string): Buffer {
  const o = Buffer.from(out, 'utf8');
  const e = Buffer.from(err, 'utf8');
  return Buffer.concat([Buffer.from(`${rc} ${o.length} ${e.length}\n`), o, e]);
}

const STREAM = Buffer.concat([
  Buffer.from('nftd 1\n'),
  reply(0, '', ''),
  reply(0, '{"nftables": [{"metainfo": {}}]}\n', ''),
  reply(1, '', 'Error: Could not process rule: No such file or directory\nadd element inet edgeflow fip4_mark { 198.51.100.7 : 0x00ef000b }\n'),
  reply(0, 'comment "zoné ✓"\n12 34\n', 'warning\n'), // multi-byte UTF-8 and digits in the body
]);
const EXPECTED: NftdFrame[] = [
  { greeting: 'nftd 1' },
  { rc: 0, out: '', err: '' },
  { rc: 0, out: '{"nftables": [{"metainfo": {}}]}\n', err: '' },
  { rc: 1, out: '', err: 'Error: Could not process rule: No such file or directory\nadd element inet edgeflow fip4_mark { 198.51.100.7 : 0x00ef000b }\n' },
  { rc: 0, out: 'comment "zoné ✓"\n12 34\n', err: 'warning\n' },
];

function parse(chunks: Buffer[]): NftdFrame[] {
  const p = new NftdParser();
  const got: NftdFrame[] = [];
  for (const c of chunks) p.push(c, (f) => got.push(f));
  return got;
}

test('nftd framer: the stream whole, byte by byte, and split at every offset gives the same frames', () => {
  assert.deepEqual(parse([STREAM]), EXPECTED);
  assert.deepEqual(parse([...STREAM].map((b) => Buffer.from([b]))), EXPECTED);
  for (let i = 1; i < STREAM.length; i++) {
    assert.deepEqual(parse([STREAM.subarray(0, i), STREAM.subarray(i)]), EXPECTED, `split at ${i}`);
  }
});

test('nftd framer: a frame is held back until its last byte is there', () => {
  const p = new NftdParser();
  const got: NftdFrame[] = [];
  const r = reply(0, 'x'.repeat(100_000), '');
  p.push(Buffer.concat([Buffer.from('nftd 1\n'), r.subarray(0, r.length - 1)]), (f) => got.push(f));
  assert.deepEqual(got.slice(), [{ greeting: 'nftd 1' }]);
  p.push(r.subarray(r.length - 1), (f) => got.push(f));
  assert.equal(got.length, 2);
  assert.deepEqual(got[1], { rc: 0, out: 'x'.repeat(100_000), err: '' });
});

test('nftd framer: a wrong greeting or header is an error, not a misread reply', () => {
  assert.throws(() => parse([Buffer.from('Traceback (most recent call last):\n')]), /unexpected greeting/);
  assert.throws(() => parse([Buffer.from('nftd 1\n0 5\nhello')]), /bad reply header/);
  assert.throws(() => parse([Buffer.from('nftd 1\n'), Buffer.from('x'.repeat(300))]), /header too long/);
});

test('nftd: a helper that cannot start fails each call with a NatError naming it; close() ends calls', async () => {
  const nft = nftHelper({ python: '/nonexistent/python3' });
  const nat = new NatManager({ externalInterface: 'eth0', nft });
  for (let i = 0; i < 2; i++) {
    await assert.rejects(nat.readNft(), (e: unknown) => e instanceof NatError && e.code === 'NAT_KERNEL' && e.field === 'nft' && /\/nonexistent\/python3/.test(e.message));
  }
  nft.close();
  const r = await nft.run('list tables');
  assert.deepEqual([r.code, r.stderr, nft.pid], [128, 'nft helper closed', undefined]);
});

test('nftd: an idle helper does not keep Node running (a forgotten close() cannot hang a process)', () => {
  const mod = new URL('./nftd.js', import.meta.url).href;
  const script = `const { nftHelper } = await import(${JSON.stringify(mod)}); const h = nftHelper(); const r = await h.run('list tables'); console.log(JSON.stringify({ pid: h.pid, code: typeof r.code }));`;
  const c = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(c.signal, null, 'exited by itself, not killed by the timeout');
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stdout, /"code":"number"/, 'the call came back before the exit');
});
