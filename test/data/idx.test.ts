import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from '../../lib/core/errors';
import { encodeIdx, parseIdx } from '../../lib/data/idx';

test('parses dims big-endian and returns the data bytes', () => {
  const data = new Uint8Array([0, 1, 2, 3, 4, 5]);
  const enc = encodeIdx([2, 3], data);
  // hand-written header: 00 00 08 02 | 00 00 00 02 | 00 00 00 03
  assert.deepEqual([...enc.subarray(0, 12)], [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]);
  const p = parseIdx(enc, 'x.idx');
  assert.deepEqual(p.dims, [2, 3]);
  assert.deepEqual([...p.data], [...data]);
});

test('rejects wrong magic, type and length with a DataError naming the file', () => {
  const good = encodeIdx([4], new Uint8Array(4));
  const wrongMagic = good.slice();
  wrongMagic[0] = 1;
  const wrongType = good.slice();
  wrongType[2] = 0x0d; // float
  for (const bytes of [wrongMagic, wrongType, good.subarray(0, good.length - 1), new Uint8Array(2)]) {
    assert.throws(() => parseIdx(bytes, 'bad.idx'), (e: unknown) => e instanceof DataError && e.message.includes('bad.idx'));
  }
});
