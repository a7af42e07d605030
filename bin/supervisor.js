#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm ci`/`npm run build`); this shim keeps the bin path stable.
import '../dist/cli.js';
