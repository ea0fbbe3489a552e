// Runs the uvu suites (compiled to dist/test) and ends with the line CI reads: "N passed, N failed".
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filter = process.argv[2] ?? '';
// Only compiled test files; an optional argument narrows them by a regex on the path.
const pattern = filter ? `^(?=.*(?:${filter})).*\\.test\\.js$` : '\\.test\\.js$';
const uvu = spawn(process.execPath, [`${root}/node_modules/uvu/bin.js`, 'dist/test', pattern], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
});
let output = '';
uvu.stdout.on('data', (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});
uvu.on('close', (code) => {
  const count = (label) => Number((output.match(new RegExp(`${label}:\\s+(\\d+)`)) ?? [])[1] ?? 0);
  const total = count('Total');
  const passed = count('Passed');
  const skipped = count('Skipped');
  // uvu's Total already leaves out skipped tests.
  let failed = total - passed;
  if (code !== 0 && failed === 0) failed = 1; // a crash before the summary still fails
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code === 0 && failed === 0 && total > 0 ? 0 : 1);
});
