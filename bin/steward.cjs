#!/usr/bin/env node
'use strict';
// tsx compiles the TypeScript sources on load, so `npx steward` works without a build step.
require('tsx/cjs');
// The composition root builds what the commands need (workers/ is the one place adapters are made).
require('../workers/cli.main.ts');
