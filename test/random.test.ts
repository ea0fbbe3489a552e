import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CounterRng, philox, streamId } from '../src/random.js';

test('Philox4x32-10 matches the Random123 known-answer vectors', () => {
  const out = new Uint32Array(4);
  philox(0, 0, 0, 0, 0, 0, out);
  assert.equal(Array.from(out), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  philox(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, out);
  assert.equal(Array.from(out), [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
  philox(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
  assert.equal(Array.from(out), [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
});

test('draws depend only on (seed, stream, index, draw)', () => {
  const a = new CounterRng(42, streamId('x'), 123_456_789_012);
  const b = new CounterRng(42, streamId('x'), 123_456_789_012);
  const xs = Array.from({ length: 10 }, () => a.uniform());
  assert.equal(Array.from({ length: 10 }, () => b.uniform()), xs);
  assert.not.equal(new CounterRng(43, streamId('x'), 123_456_789_012).uniform(), xs[0]);
  assert.not.equal(new CounterRng(42, streamId('y'), 123_456_789_012).uniform(), xs[0]);
});

test('uniform, normal and Poisson draws have the right moments', () => {
  const n = 200_000;
  let su = 0, sn = 0, sn2 = 0, sp = 0, sp2 = 0, sq = 0;
  for (let i = 0; i < n; i++) {
    const rng = new CounterRng(7, 1, i);
    const u = rng.uniform();
    assert.ok(u > 0 && u < 1);
    su += u;
    const z = rng.normal();
    sn += z; sn2 += z * z;
    const k = rng.poisson(0.3);
    sp += k; sp2 += k * k;
    sq += rng.poisson(50);
  }
  assert.ok(Math.abs(su / n - 0.5) < 0.003);
  assert.ok(Math.abs(sn / n) < 0.01 && Math.abs(sn2 / n - 1) < 0.015);
  assert.ok(Math.abs(sp / n - 0.3) < 0.006 && Math.abs(sp2 / n - (sp / n) ** 2 - 0.3) < 0.01);
  assert.ok(Math.abs(sq / n - 50) < 0.1);
});

test.run();
