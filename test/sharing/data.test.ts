// Sharing-experiment data (SPEC §4): CSV round trip, chunked reading, validation of the design's
// logic with row/column errors, market ordering helpers and the summary table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromoptError } from '../../src/errors.js';
import {
  concatSharingData, covariatesFor, marketStarts, readSharingData, readSharingDataChunks, sortByMarket, summarizeSharing,
  writeSharingData, type SharingData,
} from '../../src/sharing/data.js';
import { CounterRng } from '../../src/random.js';

/** A small valid data set with markets interleaved (not sorted) and awkward market names. */
function sample(n = 50, seed = 3): SharingData {
  const marketNames = ['north-c01', 'east, "big" c02', 'south-c03'];
  const prices = [59, 79.5, 118];
  const costs = [48.1, 71, 89.1];
  const data: SharingData = {
    marketNames,
    market: new Int32Array(n),
    price: new Float64Array(n),
    marginalCost: new Float64Array(n),
    assignment: new Uint8Array(n),
    shared: new Uint8Array(n),
    purchased: new Uint8Array(n),
    referrals: new Float64Array(n),
    covariateNames: ['x1', 'x2'],
    covariates: [new Float64Array(n), new Float64Array(n)],
  };
  for (let i = 0; i < n; i++) {
    const rng = new CounterRng(seed, 1, i);
    const m = rng.integer(3);
    data.market[i] = m;
    data.price[i] = prices[m];
    data.marginalCost[i] = costs[m];
    const s = rng.bernoulli(0.5), w = rng.bernoulli(0.4);
    data.assignment[i] = s;
    data.shared[i] = w;
    data.purchased[i] = s === 1 && w === 0 ? 0 : rng.bernoulli(0.5);
    data.referrals[i] = w ? rng.poisson(1.5) : 0;
    data.covariates[0][i] = rng.normal();
    data.covariates[1][i] = rng.integer(5) - 2 + 1e-7 * rng.uniform();
  }
  return data;
}

function plain(data: SharingData) {
  return {
    marketNames: data.marketNames,
    market: Array.from(data.market),
    price: Array.from(data.price),
    marginalCost: Array.from(data.marginalCost),
    assignment: Array.from(data.assignment),
    shared: Array.from(data.shared),
    purchased: Array.from(data.purchased),
    referrals: Array.from(data.referrals),
    covariateNames: data.covariateNames,
    covariates: data.covariates.map((c) => Array.from(c)),
  };
}

async function withDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'promopt-data-'));
  try {
    return await body(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function rejectsFile(dir: string, csv: string, pattern: RegExp, chunkRows?: number): Promise<void> {
  const path = join(dir, 'bad.csv');
  await fs.writeFile(path, csv);
  try {
    if (chunkRows) for await (const _ of readSharingDataChunks(path, chunkRows)) { /* read on */ }
    else await readSharingData(path);
  } catch (error) {
    assert.instance(error, PromoptError);
    assert.is((error as PromoptError).code, 'BAD_INPUT');
    assert.not.ok((error as Error).message.includes('\n'));
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`accepted a bad file; expected ${pattern}`);
}

const HEADER = 'market,price,mc,s,w,y,referrals,x1';

test('write then read returns the same data (first-appearance market order, quoted names)', async () => {
  await withDir(async (dir) => {
    const data = sample();
    const path = join(dir, 'data.csv');
    await writeSharingData(path, data);
    const back = await readSharingData(path);
    // Market indices follow first appearance in the file, which is the sample's order only up to relabeling.
    const names = back.marketNames;
    assert.equal(new Set(names), new Set(data.marketNames));
    const relabeled = { ...back, marketNames: data.marketNames, market: back.market.map((m) => data.marketNames.indexOf(names[m])) };
    assert.equal(plain(relabeled), plain(data));
    assert.equal((await fs.readdir(dir)).sort(), ['data.csv']);
  });
});

test('Parquet and Arrow files (by extension) round-trip like CSV', async () => {
  await withDir(async (dir) => {
    const data = sample(120, 8);
    const csv = join(dir, 'data.csv');
    await writeSharingData(csv, data);
    const expected = plain(await readSharingData(csv));
    for (const name of ['data.parquet', 'data.arrow']) {
      const path = join(dir, name);
      await writeSharingData(path, data);
      assert.equal(plain(await readSharingData(path)), expected, name);
      const chunks = [];
      for await (const { firstRow: _f, ...chunk } of readSharingDataChunks(path, 50)) chunks.push(chunk);
      assert.equal(plain(concatSharingData(chunks)), expected, `${name} in chunks`);
    }
  });
});

test('chunked reading equals whole reading, with global market indices', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'data.csv');
    await writeSharingData(path, sample(200, 5));
    const whole = await readSharingData(path);
    const chunks = [];
    for await (const chunk of readSharingDataChunks(path, 7)) {
      assert.ok(chunk.market.length <= 7);
      assert.is(chunk.firstRow, chunks.reduce((n, c) => n + c.market.length, 0));
      chunks.push(chunk);
    }
    assert.is(chunks.length, Math.ceil(200 / 7));
    assert.equal(plain(concatSharingData(chunks)), plain(whole));
  });
});

test('bad rows are rejected with the row and column named', async () => {
  await withDir(async (dir) => {
    const good = 'm1,59,48,1,1,1,2,0.5';
    await rejectsFile(dir, `${HEADER}\n${good}\nm1,59,48,2,1,1,0,0.1\n`, /bad\.csv: row 3, column "s": expected 0 or 1, got 2/);
    await rejectsFile(dir, `${HEADER}\n${good}\nm1,59,48,0,0.5,0,0,0.1\n`, /row 3, column "w": expected 0 or 1/);
    await rejectsFile(dir, `${HEADER}\n${good}\nm1,59,48,0,0,-1,0,0.1\n`, /row 3, column "y": expected 0 or 1/);
    await rejectsFile(dir, `${HEADER}\n${good}\nm1,59,48,0,0,0,3,0.1\n`, /row 3, column "referrals": 3 referrals from a customer who did not share/);
    await rejectsFile(dir, `${HEADER}\n${good}\nm1,59,48,1,0,1,0,0.1\n`, /row 3, column "y": purchase \(y = 1\) under the broadcasting requirement \(s = 1\) without sharing/);
    await rejectsFile(dir, `${HEADER}\n${good}\nm1,79,48,0,0,0,0,0.1\n`, /row 3, column "price": 79 differs from 59 earlier in market "m1"/);
    await rejectsFile(dir, `${HEADER}\n${good}\nm1,59,50,0,0,0,0,0.1\n`, /row 3, column "mc": 50 differs from 48/);
    await rejectsFile(dir, `${HEADER}\n${good}\nm1,59,48,0,1,0,1.5,0.1\n`, /row 3, column "referrals": expected a non-negative integer count, got 1.5/);
    await rejectsFile(dir, `${HEADER}\n${good}\nm1,59,48,0,1,0,-1,0.1\n`, /row 3, column "referrals": expected a non-negative integer/);
    await rejectsFile(dir, `${HEADER}\n${good}\n"",59,48,0,0,0,0,0.1\n`, /row 3, column "market": empty market name/);
    await rejectsFile(dir, `${HEADER}\n${good}\nm2,-5,48,0,0,0,0,0.1\n`, /row 3, column "price": price -5 is negative/);
    await rejectsFile(dir, `${HEADER}\n${good}\nm1,59,48,0,0,0,0,abc\n`, /row 3, column "x1": "abc" is not a finite number/);
    await rejectsFile(dir, 'market,price,mc,s,y,referrals,x1\nm1,59,48,1,1,2,0.5\n', /missing column "w"/);
    await rejectsFile(dir, `${HEADER}\n`, /no customers/);
    // A market's price is checked across chunk boundaries too.
    await rejectsFile(dir, `${HEADER}\n${good}\nm2,79,60,0,0,0,0,0\nm3,88,70,0,0,0,0,0\nm1,60,48,0,0,0,0,0\n`, /row 5, column "price": 60 differs from 59 earlier in market "m1"/, 2);
  });
});

test('writing rejects data that would not read back, and leaves no file', async () => {
  await withDir(async (dir) => {
    const data = sample(10);
    const path = join(dir, 'out.csv');
    await writeSharingData(path, { ...data, marketNames: [' padded', ...data.marketNames.slice(1)] }).then(
      () => assert.unreachable('wrote a padded market name'),
      (e: Error) => assert.match(e.message, /surrounding spaces/),
    );
    await writeSharingData(path, { ...data, covariateNames: ['price', 'x2'] }).then(
      () => assert.unreachable('wrote a covariate named like a fixed column'),
      (e: Error) => assert.match(e.message, /collides/),
    );
    await writeSharingData(path, { ...data, referrals: new Float64Array(3) }).then(
      () => assert.unreachable('wrote a short column'),
      (e: Error) => assert.match(e.message, /column "referrals" has 3 values for 10 customers/),
    );
    assert.equal(await fs.readdir(dir), [], 'no output and no temporary file');
  });
});

test('sortByMarket makes markets contiguous (stable) and marketStarts gives offsets', () => {
  const data = sample(60, 9);
  assert.throws(() => marketStarts(data), /sortByMarket/);
  const sorted = sortByMarket(data);
  const starts = marketStarts(sorted);
  assert.is(starts.length, sorted.marketNames.length + 1);
  assert.is(starts[0], 0);
  assert.is(starts[starts.length - 1], 60);
  for (let m = 0; m < sorted.marketNames.length; m++) {
    const original: number[] = [];
    for (let i = 0; i < 60; i++) if (data.market[i] === data.marketNames.indexOf(sorted.marketNames[m])) original.push(i);
    assert.is(starts[m + 1] - starts[m], original.length);
    original.forEach((i, k) => {
      const j = starts[m] + k;
      assert.is(sorted.market[j], m);
      assert.is(sorted.covariates[0][j], data.covariates[0][i], 'stable within a market');
      assert.is(sorted.referrals[j], data.referrals[i]);
    });
  }
  assert.is(sortByMarket(sorted), sorted, 'already sorted data come back as is');
  // An unused market name is dropped.
  const unused = { ...sorted, marketNames: [...sorted.marketNames, 'nobody'] };
  assert.equal(sortByMarket(unused).marketNames, sorted.marketNames);
});

test('covariatesFor picks the parameters\' covariates by name', () => {
  const data = sample(20);
  const picked = covariatesFor(data, { covariates: ['x2', 'x1'] });
  assert.is(picked.columns[0], data.covariates[1]);
  assert.is(picked.columns[1], data.covariates[0]);
  assert.is(picked.market[4], data.marketNames[data.market[4]]);
  assert.throws(() => covariatesFor(data, { covariates: ['x3'] }), /no covariate "x3"/);
});

test('the summary table counts shares, purchases and referrals per focal customer by price', () => {
  const data = sample(300, 11);
  const summary = summarizeSharing(data);
  assert.equal(summary.groups.map((g) => g.price), [59, 79.5, 118]);
  for (const g of summary.groups) {
    let n = 0, w = 0, y = 0, r = 0;
    const markets = new Set<number>();
    for (let i = 0; i < 300; i++) {
      if (data.price[i] !== g.price) continue;
      n++; w += data.shared[i]; y += data.purchased[i]; r += data.referrals[i];
      markets.add(data.market[i]);
    }
    assert.is(g.customers, n);
    assert.is(g.markets, markets.size);
    assert.ok(Math.abs(g.shareRate - w / n) < 1e-15);
    assert.ok(Math.abs(g.purchaseRate - y / n) < 1e-15);
    assert.ok(Math.abs(g.referralsPerCustomer - r / n) < 1e-15);
  }
  assert.is(summary.total.customers, 300);
  const weighted = summary.groups.reduce((s, g) => s + g.shareRate * g.customers, 0) / 300;
  assert.ok(Math.abs(summary.total.shareRate - weighted) < 1e-12);
});

test.run();
