#!/usr/bin/env node
// The compiled CLI lives in dist/ (built by `npm ci`/`npm run build`); this shim keeps the bin path stable.
// Signals that would start Node's inspector (SIGUSR1) or end the process get their listeners first, before the CLI's
// modules load (signals.ts): the window in which they still could is Node's own start.
import { guardSignals } from '../dist/runtime/signals.js';

guardSignals();
await import('../dist/cli.js');
