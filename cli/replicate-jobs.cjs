#!/usr/bin/env node
// `npx replicate-jobs …`: the CLI is TypeScript, run through tsx (installed with the project).
require('tsx/cjs');
require('./main.ts');
