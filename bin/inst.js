#!/usr/bin/env node
globalThis.__T=[['bin',performance.now()]]; process.on('exit',()=>{globalThis.__T.push(['exit',performance.now()]); let p=0; process.stderr.write(globalThis.__T.map(([n,t])=>{const s=n+' '+(t-p).toFixed(1); p=t; return s}).join(' | ')+'\n')});
// The compiled CLI lives in dist/ (built by `npm ci`/`npm run build`); this shim keeps the bin path stable.
// Signals that would start Node's inspector (SIGUSR1) or end the process get their listeners first, before the CLI's
// modules load (signals.ts): the window in which they still could is Node's own start.
import { guardSignals } from '/tmp/dist-inst/runtime/signals.js';

guardSignals();
await import('/tmp/dist-inst/cli.js');
