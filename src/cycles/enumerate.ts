// Every generator cycle of distinct prices on k price indices, in one fixed order that the
// batch kernel (assembly/mdp.ts, couponCyclesK5) shares: each cycle starts at its lowest price s,
// paths grow depth-first through higher prices in ascending order, and a path's cycle (close
// back to s) comes before its extensions. There are Σ_m C(k,m)(m−1)! of them (89 for k = 5).

export interface GeneratorCycle {
  /** Price indices in cycle order, starting at the lowest. */
  prices: number[];
  /** Steps up in price (each repeated L times in the L-up-1-down cycle). */
  ascents: number;
}

export function enumerateGeneratorCycles(k: number): GeneratorCycle[] {
  const cycles: GeneratorCycle[] = [];
  const visit = (path: number[], ascents: number) => {
    cycles.push({ prices: [...path], ascents });
    for (let c = path[0] + 1; c < k; c++) {
      if (path.includes(c)) continue;
      path.push(c);
      visit(path, ascents + (c > path[path.length - 2] ? 1 : 0));
      path.pop();
    }
  };
  for (let s = 0; s < k; s++) visit([s], 0);
  return cycles;
}

/**
 * Cycles with the same length m and ascents u share the period u·L + (m − u), so the kernel keeps
 * one best total per (m, u) group and divides once per group. Groups are numbered by m, then u.
 */
export function cycleGroups(k: number): Array<{ length: number; ascents: number }> {
  const groups = [{ length: 1, ascents: 0 }];
  for (let m = 2; m <= k; m++) for (let u = 1; u < m; u++) groups.push({ length: m, ascents: u });
  return groups;
}

export function groupIndex(length: number, ascents: number): number {
  if (length === 1) return 0;
  // groups before length m: 1 + Σ_{j=2}^{m−1} (j − 1)
  return 1 + ((length - 2) * (length - 1)) / 2 + (ascents - 1);
}

/** The period Σℓ of a generator cycle's L-up-1-down cycle. */
export function cyclePeriod(cycle: GeneratorCycle, memory: number): number {
  return cycle.ascents * memory + (cycle.prices.length - cycle.ascents);
}
