// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011): every draw is a pure function
// of (seed, stream, index, draw), so a simulation gives the same data however it is sharded or
// threaded. `stream` separates purposes (covariates, assignment, outcomes, ...), `index` is the
// customer (or customer-day), `draw` counts draws for that index.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High and low 32 bits of a 32×32-bit product. */
function mulhilo(a: number, b: number, out: Uint32Array, hiIndex: number, loIndex: number): void {
  const aLo = a & 0xffff, aHi = a >>> 16, bLo = b & 0xffff, bHi = b >>> 16;
  const lolo = aLo * bLo;
  const lohi = aLo * bHi;
  const hilo = aHi * bLo;
  const hihi = aHi * bHi;
  const cross = (lolo >>> 16) + (lohi & 0xffff) + (hilo & 0xffff);
  out[hiIndex] = hihi + (lohi >>> 16) + (hilo >>> 16) + (cross >>> 16);
  out[loIndex] = (cross << 16) | (lolo & 0xffff);
}

const scratch = new Uint32Array(8);

/** Philox4x32-10 of counter (c0..c3) under key (k0, k1); writes four words into `out`. */
export function philox(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let key0 = k0 >>> 0, key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    mulhilo(M0, x0, scratch, 0, 1);
    mulhilo(M1, x2, scratch, 2, 3);
    const y0 = (scratch[2] ^ x1 ^ key0) >>> 0;
    const y1 = scratch[3];
    const y2 = (scratch[0] ^ x3 ^ key1) >>> 0;
    const y3 = scratch[1];
    x0 = y0; x1 = y1; x2 = y2; x3 = y3;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
}

const words = new Uint32Array(4);
const TWO_POW_32 = 4294967296;

/**
 * Random draws for one (seed, stream, index): a cheap object to create per customer.
 * uniform() is in (0, 1), never exactly 0 or 1.
 */
export class CounterRng {
  private draw = 0;
  private buffered = 0;
  private hasBuffered = false;
  constructor(private readonly seed: number, private readonly stream: number, private readonly index: number) {}

  uniform(): number {
    if (this.hasBuffered) {
      this.hasBuffered = false;
      return this.buffered;
    }
    const index = this.index;
    philox(index % TWO_POW_32, Math.floor(index / TWO_POW_32), this.stream, this.draw++, this.seed % TWO_POW_32, Math.floor(this.seed / TWO_POW_32), words);
    // 53-bit uniforms from two words each, shifted by half an ulp to exclude 0.
    const a = ((words[0] >>> 5) * 67108864 + (words[1] >>> 6) + 0.5) / 9007199254740992;
    const b = ((words[2] >>> 5) * 67108864 + (words[3] >>> 6) + 0.5) / 9007199254740992;
    this.buffered = b;
    this.hasBuffered = true;
    return a;
  }

  bernoulli(p: number): 0 | 1 {
    return this.uniform() < p ? 1 : 0;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u1 = this.uniform();
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Poisson(mean): inversion for small means, normal-corrected PTRS (Hörmann 1993) otherwise. */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean < 30) {
      let k = 0;
      let p = Math.exp(-mean);
      let cdf = p;
      const u = this.uniform();
      while (u > cdf && k < 1000) {
        k++;
        p *= mean / k;
        cdf += p;
      }
      return k;
    }
    const slam = Math.sqrt(mean), loglam = Math.log(mean);
    const b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b, invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5, v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor((2 * a / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -mean + k * loglam - logFactorial(k)) return k;
    }
  }

  /** Integer in [0, n). */
  integer(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }
}

function logFactorial(k: number): number {
  if (k < 2) return 0;
  // Stirling series; exact enough for k >= 2 in a rejection test.
  return (k + 0.5) * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * k) - 1 / (360 * k ** 3);
}

/** Stable 32-bit stream id for a purpose name, so streams are named, not numbered by hand. */
export function streamId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
