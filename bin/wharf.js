#!/usr/bin/env node
// Published entry point: runs the compiled CLI (npm run build writes dist/).
import '../dist/cli/main.js';
