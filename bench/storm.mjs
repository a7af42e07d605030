// A storm in a vassal directory: files created, edited, renamed and deleted in a burst, spread over a few rounds
// (so the emperor acts mid-storm, on files that are then renamed or deleted). Shared by the storm test and bench.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Creates `files` vassal files in `rounds` rounds (`pauseMs` apart); each round also edits, renames or deletes the
 * previous round's files: a quarter edited, a quarter renamed (s0042.ini -> r0042.ini), half deleted. Written
 * complete with one write each. Resolves with the names the directory holds at the end, the number of file
 * operations, and when the last one was made (performance.now()).
 */
export async function runStorm(dir, { files = 1000, rounds = 10, pauseMs = 100, ini }) {
  const perRound = Math.ceil(files / rounds);
  const name = (i) => `s${String(i).padStart(4, '0')}.ini`;
  const final = new Set();
  let ops = 0;
  const settlePrevious = (from, to) => {
    for (let i = from; i < to; i++) {
      const file = path.join(dir, name(i));
      switch (i % 4) {
        case 0:
          writeFileSync(file, ini(i, true));
          break;
        case 1: {
          const renamed = name(i).replace(/^s/, 'r');
          renameSync(file, path.join(dir, renamed));
          final.delete(name(i));
          final.add(renamed);
          break;
        }
        default:
          rmSync(file);
          final.delete(name(i));
      }
      ops++;
    }
  };
  for (let round = 0; round <= rounds; round++) {
    const from = round * perRound;
    const to = Math.min(files, from + perRound);
    for (let i = from; i < to; i++) {
      writeFileSync(path.join(dir, name(i)), ini(i, false));
      final.add(name(i));
      ops++;
    }
    if (round > 0) settlePrevious((round - 1) * perRound, Math.min(files, round * perRound));
    if (round < rounds) await sleep(pauseMs);
  }
  return { finalNames: [...final].sort(), ops, endedAt: performance.now() };
}
