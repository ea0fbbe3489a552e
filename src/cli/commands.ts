// Every command, registered in the order `promopt --help` lists them. One file per command.
import type { Command } from 'commander';
import { registerSimulate } from './simulate.js';
import { registerEstimate } from './estimate.js';
import { registerCounterfactual } from './counterfactual.js';
import { registerGrid } from './grid.js';
import { registerCoupons } from './coupons.js';
import { registerFit } from './fit.js';
import { registerAllocate } from './allocate.js';
import { registerAbTest } from './abtest.js';
import { registerCycles } from './cycles.js';
import { registerReport } from './report.js';
import { registerDemo } from './demo.js';

export const commands: Array<(program: Command) => void> = [
  registerSimulate,
  registerEstimate,
  registerCounterfactual,
  registerGrid,
  registerCoupons,
  registerFit,
  registerAllocate,
  registerAbTest,
  registerCycles,
  registerReport,
  registerDemo,
];
