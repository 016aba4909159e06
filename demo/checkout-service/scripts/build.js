'use strict';

// The deploy pipeline's build step: every module under src/ must compile and load, with each of its
// requires resolved, before the service ships. It writes nothing; a failure prints the error and exits 1.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const sourceDir = path.join(root, 'src');

function modules(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? modules(path.join(dir, entry.name)) : entry.name.endsWith('.js') ? [path.join(dir, entry.name)] : []))
    .sort();
}

const files = modules(sourceDir);
let failed = 0;
for (const file of files) {
  const relative = path.relative(root, file);
  const checked = spawnSync(process.execPath, ['--check', relative], { cwd: root, encoding: 'utf8' });
  if (checked.status !== 0) {
    failed += 1;
    process.stderr.write(`build: ${relative} does not compile\n${checked.stderr}\n`);
    continue;
  }
  try {
    require(file);
  } catch (error) {
    failed += 1;
    process.stderr.write(`build: ${relative} does not load\n${String(error.stack).split(root + path.sep).join('')}\n`);
  }
}
if (failed > 0) {
  process.stderr.write(`build failed: ${failed} of ${files.length} modules\n`);
  process.exit(1);
}
console.log(`build ok: ${files.length} modules`);
