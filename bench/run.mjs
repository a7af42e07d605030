// npm run bench: every benchmark, one after the other, printing its figures.
import { dropToServe } from './drop-to-serve.mjs';
import { emperorRss } from './emperor-rss.mjs';
import { fmt } from './lib.mjs';

console.log(`node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
console.log(`file dropped -> socket answers 200: ${fmt(await dropToServe(10))}`);
const { rssKiB } = await emperorRss();
console.log(`emperor RSS with the two example vassals (4 workers): ${(rssKiB / 1024).toFixed(1)} MiB`);
