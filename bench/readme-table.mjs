// Pastes a bench run's Markdown table (default: bench/results/latest.md) into the README's Performance section,
// between the bench-table markers. The numbers come from the run's file, never from a hand.
// Run: node bench/readme-table.mjs [TABLE.md] [README.md]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './lib.mjs';

export const START = '<!-- bench-table:start -->';
export const END = '<!-- bench-table:end -->';

/** `readme` with the text between the markers replaced by `table`; throws when the markers are missing or out of order. */
export function pasteTable(readme, table) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start || readme.indexOf(START, start + 1) >= 0) throw new Error(`the README needs exactly one ${START} ... ${END} block`);
  return `${readme.slice(0, start + START.length)}\n${table.trim()}\n${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tableFile = process.argv[2] ?? path.join(ROOT, 'bench', 'results', 'latest.md');
  const readmeFile = process.argv[3] ?? path.join(ROOT, 'README.md');
  writeFileSync(readmeFile, pasteTable(readFileSync(readmeFile, 'utf8'), readFileSync(tableFile, 'utf8')));
  console.log(`${readmeFile}: Performance table replaced by ${tableFile}`);
}
