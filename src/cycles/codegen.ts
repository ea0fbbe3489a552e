// Writes the straight-line body of the couponCyclesK5 kernel (assembly/mdp.ts) from the cycle
// enumeration, so that the kernel's cycle ids and the TypeScript decoding can never disagree
// (test/cycles/batch.test.ts checks that assembly/mdp.ts holds exactly this text).
// Regenerate: node -e "import('./dist/src/cycles/codegen.js').then(m => console.log(m.couponKernelBody()))"
import { enumerateGeneratorCycles, groupIndex } from './enumerate.js';

export const KERNEL_PRICES = 5;

/** The generated block, between the BEGIN/END markers in assembly/mdp.ts. */
export function couponKernelBody(): string {
  const k = KERNEL_PRICES;
  const lines: string[] = [];
  const emit = (s: string) => lines.push(`    ${s}`);
  // Gains in the discount language: G[d][r] = c_d / (1 + E_d · R_r).
  for (let d = 0; d < k; d++) for (let r = 0; r < k; r++) {
    emit(`const G${d}${r} = f64x2.div(c${d}, f64x2.add(one, f64x2.mul(E${d}, R${r})));`);
  }
  // Edge weights in price indices: w_i_j = τ · G_price[j][i], price index = 4 − discount index.
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    const g = `G${k - 1 - j}${k - 1 - i}`;
    emit(j > i ? `const w${i}${j} = f64x2.mul(Lv, ${g});` : `const w${i}${j} = ${g};`);
  }
  const seen = new Set<number>();
  const cycles = enumerateGeneratorCycles(k);
  cycles.forEach((cycle, id) => {
    const path = cycle.prices;
    const name = `s${path.join('')}`;
    const last = path[path.length - 1], first = path[0];
    if (path.length === 2) emit(`const ${name} = w${first}${path[1]};`);
    else if (path.length > 2) emit(`const ${name} = f64x2.add(s${path.slice(0, -1).join('')}, w${path[path.length - 2]}${last});`);
    const total = path.length === 1 ? `w${first}${first}` : `f64x2.add(${name}, w${last}${first})`;
    const g = groupIndex(path.length, cycle.ascents);
    const idVec = `v128.load(CYCLE_IDS + ${id * 16})`;
    if (!seen.has(g)) {
      seen.add(g);
      emit(`let best${g} = ${total};`);
      emit(`let id${g} = ${idVec};`);
    } else {
      emit(`const t${id} = ${total};`);
      emit(`const m${id} = f64x2.gt(t${id}, best${g});`);
      emit(`best${g} = f64x2.pmax(best${g}, t${id});`); // = t when best < t: the same strict comparison, cheaper than a select
      emit(`id${g} = v128.bitselect(${idVec}, id${g}, m${id});`);
    }
  });
  // One division per group, then the best ratio; ties keep the earlier group.
  const groups = [...seen].sort((a, b) => a - b);
  emit(`let bestGain = f64x2.div(best${groups[0]}, period${groups[0]});`);
  emit(`let bestId = id${groups[0]};`);
  for (const g of groups.slice(1)) {
    emit(`const r${g} = f64x2.div(best${g}, period${g});`);
    emit(`const q${g} = f64x2.gt(r${g}, bestGain);`);
    emit(`bestGain = v128.bitselect(r${g}, bestGain, q${g});`);
    emit(`bestId = v128.bitselect(id${g}, bestId, q${g});`);
  }
  return lines.join('\n');
}

export const KERNEL_CYCLE_COUNT = enumerateGeneratorCycles(KERNEL_PRICES).length;
