#!/usr/bin/env node
'use strict';
// tsx compiles the TypeScript sources on load, so `npx steward` works without a build step.
require('tsx/cjs');
const { runCli } = require('../api/cli.ts');

runCli(process.argv.slice(2)).then((exitCode) => {
  process.exitCode = exitCode;
});
