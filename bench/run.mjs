// npm run bench: every benchmark, one after the other, printing its figures.
import { cpus } from 'node:os';
import { dropToServe } from './drop-to-serve.mjs';
import { emperorRss } from './emperor-rss.mjs';
import { fmt } from './lib.mjs';
import { describeLoad, reloadUnderLoad } from './reload-under-load.mjs';
import { describeRestart, restartLatency } from './restart-latency.mjs';
import { printSocketBind } from './socket-bind.mjs';
import { describeStatus, statusBench } from './status.mjs';
import { printStorm, printVassalChanges, stormSettle, vassalChanges } from './vassal-changes.mjs';
import { printVassalRead, vassalRead } from './vassal-read.mjs';

console.log(`node ${process.version}, ${cpus().length} cores`);
console.log(`file dropped -> socket answers 200: ${fmt(await dropToServe(10))}`);
const { rssKiB } = await emperorRss();
console.log(`emperor RSS with the two example vassals (4 workers): ${(rssKiB / 1024).toFixed(1)} MiB`);
console.log(describeRestart(await restartLatency(10)));
await printSocketBind(10);
console.log(describeLoad(await reloadUnderLoad()));
const { rssGrowth, describeGrowth } = await import('./rss-growth.mjs');
console.log(describeGrowth(await rssGrowth()));
console.log('vassal file change -> action starting (emperor log timestamp), default emperor-settle 0.05 s:');
printVassalChanges(await vassalChanges());
console.log('the same with --emperor-settle 0.01:');
printVassalChanges(await vassalChanges(10, ['--emperor-settle', '0.01']));
printStorm(await stormSettle());
printVassalRead(await vassalRead());
console.log(describeStatus(await statusBench({ windowS: 30 })));
