import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { STORE_ERRORS, StoreError, validationError } from './errors.js';

test('every EF_STORE_ code the store uses is in the catalogue, with a description', () => {
  // Compiled sources sit beside this test in dist/store.
  const dir = dirname(fileURLToPath(import.meta.url));
  const used = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.js') && !f.endsWith('.test.js'))) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/'(EF_STORE_[A-Z_]+)'/g)) used.add(m[1]!);
  }
  assert.ok(used.size >= 8);
  for (const code of used) assert.ok(code in STORE_ERRORS, `${code} is used but not catalogued`);
  for (const [code, text] of Object.entries(STORE_ERRORS)) assert.ok(text.length > 10, code);
});

test('a validation error carries its fields and lists them in the message', () => {
  const e = validationError([{ field: 'fixedIp', message: 'is outside' }, { field: 'tenant', message: 'does not exist' }]);
  assert.ok(e instanceof StoreError);
  assert.equal(e.code, 'EF_STORE_VALIDATION');
  assert.equal(e.message, 'fixedIp: is outside; tenant: does not exist');
  assert.equal(e.fields.length, 2);
});
