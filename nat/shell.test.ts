// The shell runner: exit codes, stdout and stderr apart, stdin, quoting, order under concurrency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shellRunner } from './shell.js';

test('shellRunner runs commands in order with their own output, stdin and exit code', async () => {
  const run = shellRunner();
  try {
    assert.deepEqual(await run('sh', ['-c', 'echo out; echo err >&2; exit 3']), { code: 3, stdout: 'out\n', stderr: 'err\n' });
    assert.deepEqual(await run('cat', [], "a 'quoted' line\n$HOME `x`\n"), { code: 0, stdout: "a 'quoted' line\n$HOME `x`\n", stderr: '' });
    assert.equal((await run('printf', ['%s|', "it's", '$(id)'])).stdout, "it's|$(id)|");
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => run('echo', [String(i)])));
    assert.deepEqual(many.map((r) => r.stdout.trim()), Array.from({ length: 20 }, (_, i) => String(i)));
    assert.equal((await run('/nonexistent/tool', [])).code, 127);
    assert.equal((await run('sh', ['-c', 'exit 0'])).code, 0, 'the shell survives a failing command');
  } finally {
    run.close();
  }
});

test('shellRunner: large output comes back whole; calls after close() fail instead of starting a shell', async () => {
  const run = shellRunner();
  const r = await run('seq', ['1', '200000']);
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 200000);
  assert.equal(lines[199999], '200000');
  run.close();
  assert.equal((await run('true', [])).code, 128);
});

test('shellRunner: output without a final newline, in many writes, ends exactly where the tool stopped', async () => {
  const run = shellRunner();
  try {
    assert.equal((await run('printf', ['abc'])).stdout, 'abc');
    const r = await run('sh', ['-c', 'i=0; while [ $i -lt 3000 ]; do printf "%s," $i; i=$((i+1)); done']);
    const parts = r.stdout.split(',');
    assert.equal(parts.length, 3001);
    assert.equal(parts[2999], '2999');
    assert.equal(parts[3000], '');
  } finally {
    run.close();
  }
});
