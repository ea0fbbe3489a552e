// Every command, registered in the order `promopt --help` lists them. One file per command.
import type { Command } from 'commander';
import { registerCycles } from './cycles.js';
import { registerGrid } from './grid.js';
import { registerDemo } from './demo.js';
import { registerReport } from './report.js';
import { registerSimulate } from './simulate.js';
import { registerEstimate } from './estimate.js';
import { registerCounterfactual } from './counterfactual.js';
import { registerFit } from './fit.js';
import { registerCoupons } from './coupons.js';
import { registerAllocate } from './allocate.js';
import { registerAbTest } from './abtest.js';

export const commands: Array<(program: Command) => void> = [
  registerCycles,
  registerGrid,
  registerSimulate,
  registerEstimate,
  registerCounterfactual,
  registerFit,
  registerCoupons,
  registerAllocate,
  registerAbTest,
  registerReport,
  registerDemo,
];
