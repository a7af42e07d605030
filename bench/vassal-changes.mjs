// Time from a change in the vassal directory to the emperor starting the action it calls for (the vassal.start,
// vassal.reload or vassal.stop log record), for each kind of change, 10 rounds each; and a storm's time to settle.
// Workers are `sleep` (ready at once), so what is measured is the emperor, not the application.
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fmt, startEmperor, summary, tempDir, until } from './lib.mjs';
import { runStorm } from './storm.mjs';

const ini = (extra = '') => `[uwsgi]\ncommand = sleep 3600\nready-after = 0\n${extra}`;

/** ms from `t0` (Date.now() just before the change) to the log record's own timestamp. */
const since = (record, t0) => Date.parse(record.time) - t0;

function kubeletWrite(volume, payload) {
  const dataDir = path.join(volume, '..data');
  let oldTs;
  try {
    oldTs = readlinkSync(dataDir);
  } catch {
    oldTs = undefined;
  }
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-T:]/g, '_');
  const tsDir = path.join(volume, `..${stamp}.${Math.random().toString().slice(2, 11)}`);
  mkdirSync(tsDir, { mode: 0o755 });
  for (const [name, content] of Object.entries(payload)) writeFileSync(path.join(tsDir, name), content, { mode: 0o644 });
  const tmp = path.join(volume, '..data_tmp');
  symlinkSync(path.basename(tsDir), tmp);
  const t0 = Date.now();
  renameSync(tmp, dataDir);
  for (const name of Object.keys(payload)) {
    try {
      symlinkSync(path.join('..data', name), path.join(volume, name));
    } catch {
      // already there
    }
  }
  if (oldTs) rmSync(path.join(volume, oldTs), { recursive: true, force: true });
  return t0;
}

/** `args`: extra emperor flags, e.g. ['--emperor-settle', '0.01']. */
export async function vassalChanges(rounds = 10, args = []) {
  const dir = tempDir('bench-changes');
  const vassals = path.join(dir.path, 'vassals');
  const elsewhere = path.join(dir.path, 'elsewhere');
  mkdirSync(vassals);
  mkdirSync(elsewhere);
  const volume = path.join(dir.path, 'configmap');
  mkdirSync(volume);
  kubeletWrite(volume, { 'cm.ini': ini('env = V=0\n'), 'cm-same.ini': ini() });
  const emperor = startEmperor(['--emperor', vassals, '--emperor', volume, ...args]);
  const find = (pred) => emperor.records.find(pred);
  const waitFor = (pred) => until(() => find(pred), 30_000, 1);
  const results = {};
  try {
    await waitFor((r) => r.event === 'vassal.start' && r.vassal === 'cm.ini');
    const kinds = {
      'new file': async (i) => {
        const t0 = Date.now();
        writeFileSync(path.join(vassals, `new${i}.ini`), ini());
        return since(await waitFor((r) => r.event === 'vassal.start' && r.vassal === `new${i}.ini`), t0);
      },
      'edit in place': async (i) => {
        const file = path.join(vassals, 'edit.ini');
        if (i === 0) {
          writeFileSync(file, ini());
          await waitFor((r) => r.event === 'worker.ready' && r.vassal === 'edit.ini');
        }
        const t0 = Date.now();
        writeFileSync(file, ini(`env = V=${i}\n`));
        const r = await waitFor((r) => r.event === 'vassal.reload' && r.vassal === 'edit.ini' && r.generation === i + 2);
        await waitFor((r) => r.event === 'vassal.reloaded' && r.vassal === 'edit.ini' && r.generation === i + 2);
        return since(r, t0);
      },
      'editor temp + rename': async (i) => {
        const file = path.join(vassals, 'editor.ini');
        if (i === 0) {
          writeFileSync(file, ini());
          await waitFor((r) => r.event === 'worker.ready' && r.vassal === 'editor.ini');
        }
        const tmp = `${file}.tmp`;
        const fd = openSync(tmp, 'w');
        writeSync(fd, ini(`env = V=${i}\n`));
        fsyncSync(fd);
        closeSync(fd);
        const t0 = Date.now();
        renameSync(tmp, file);
        const r = await waitFor((r) => r.event === 'vassal.reload' && r.vassal === 'editor.ini' && r.generation === i + 2);
        await waitFor((r) => r.event === 'vassal.reloaded' && r.vassal === 'editor.ini' && r.generation === i + 2);
        return since(r, t0);
      },
      'touch, same content (reloads, as uWSGI does)': async (i) => {
        const file = path.join(vassals, 'touched.ini');
        if (i === 0) {
          writeFileSync(file, ini());
          await waitFor((r) => r.event === 'worker.ready' && r.vassal === 'touched.ini');
        }
        const t0 = Date.now();
        execFileSync('touch', [file]);
        const r = await waitFor((r) => r.event === 'vassal.reload' && r.vassal === 'touched.ini' && r.generation === i + 2);
        await waitFor((r) => r.event === 'vassal.reloaded' && r.vassal === 'touched.ini' && r.generation === i + 2);
        return since(r, t0);
      },
      'mv a.ini b.ini (start of b)': async (i) => {
        const from = path.join(vassals, `mv${i}.ini`);
        writeFileSync(from, ini());
        await waitFor((r) => r.event === 'worker.ready' && r.vassal === `mv${i}.ini`);
        const t0 = Date.now();
        renameSync(from, path.join(vassals, `moved${i}.ini`));
        const started = await waitFor((r) => r.event === 'vassal.start' && r.vassal === `moved${i}.ini`);
        const stopped = await waitFor((r) => r.event === 'vassal.stop' && r.vassal === `mv${i}.ini`);
        results['mv a.ini b.ini (stop of a)'] ??= [];
        results['mv a.ini b.ini (stop of a)'].push(since(stopped, t0));
        return since(started, t0);
      },
      'symlink retarget (ln -sfn)': async (i) => {
        const link = path.join(vassals, 'linked.ini');
        if (i === 0) {
          writeFileSync(path.join(elsewhere, 'target.ini'), ini());
          symlinkSync(path.join(elsewhere, 'target.ini'), link);
          await waitFor((r) => r.event === 'worker.ready' && r.vassal === 'linked.ini');
        }
        const target = path.join(elsewhere, `target${i}.ini`);
        writeFileSync(target, ini(`env = T=${i}\n`));
        const t0 = Date.now();
        execFileSync('ln', ['-sfn', target, link]);
        const r = await waitFor((r) => r.event === 'vassal.reload' && r.vassal === 'linked.ini' && r.generation === i + 2);
        await waitFor((r) => r.event === 'vassal.reloaded' && r.vassal === 'linked.ini' && r.generation === i + 2);
        return since(r, t0);
      },
      'ConfigMap ..data swap': async (i) => {
        const t0 = kubeletWrite(volume, { 'cm.ini': ini(`env = V=${i + 1}\n`), 'cm-same.ini': ini() });
        const r = await waitFor((r) => r.event === 'vassal.reload' && r.vassal === 'cm.ini' && r.generation === i + 2);
        await waitFor((r) => r.event === 'vassal.reloaded' && r.vassal === 'cm.ini' && r.generation === i + 2);
        return since(r, t0);
      },
      delete: async (i) => {
        const file = path.join(vassals, `del${i}.ini`);
        writeFileSync(file, ini());
        await waitFor((r) => r.event === 'worker.ready' && r.vassal === `del${i}.ini`);
        const t0 = Date.now();
        rmSync(file);
        return since(await waitFor((r) => r.event === 'vassal.stop' && r.vassal === `del${i}.ini`), t0);
      },
    };
    for (const [kind, run] of Object.entries(kinds)) {
      const values = [];
      for (let i = 0; i < rounds; i++) values.push(await run(i));
      results[kind] = values;
    }
    const cmSame = emperor.records.filter((r) => r.vassal === 'cm-same.ini' && r.event === 'vassal.reload').length;
    results['ConfigMap: reloads of the unchanged key'] = cmSame;
  } finally {
    await emperor.stop();
    dir.remove();
  }
  return results;
}

/** A storm (bench/storm.mjs) on a fresh emperor: time from the last file operation to the final state. */
export async function stormSettle() {
  const dir = tempDir('bench-storm');
  writeFileSync(path.join(dir.path, 'pre.ini'), ini());
  const emperor = startEmperor(['--emperor', dir.path]);
  try {
    await until(() => emperor.records.some((r) => r.event === 'worker.ready' && r.vassal === 'pre.ini'), 30_000, 1);
    const storm = await runStorm(dir.path, { ini: (i, edited) => ini(`env = N=${i}${edited ? 'e' : ''}\n`) });
    const endWall = Date.now() - (performance.now() - storm.endedAt);
    const final = new Set(readdirSync(dir.path).filter((n) => n.endsWith('.ini')));
    const counts = () => {
      const started = new Map();
      const stopped = new Map();
      for (const r of emperor.records) {
        if (r.event === 'vassal.start') started.set(r.vassal, (started.get(r.vassal) ?? 0) + 1);
        if (r.event === 'vassal.stopped') stopped.set(r.vassal, (stopped.get(r.vassal) ?? 0) + 1);
      }
      return { started, stopped };
    };
    await until(() => {
      const { started, stopped } = counts();
      for (const name of final) if (started.get(name) !== 1) return false;
      for (const [name, n] of started) if (!final.has(name) && stopped.get(name) !== n) return false;
      const ready = new Set(emperor.records.filter((r) => r.event === 'worker.ready').map((r) => r.vassal));
      return [...final].every((n) => ready.has(n));
    }, 60_000, 20);
    const settledMs = Math.round(Date.now() - endWall);
    const actions = emperor.records.filter((r) => ['vassal.start', 'vassal.reload', 'vassal.stop'].includes(r.event));
    const lastActionMs = Math.round(Math.max(...actions.map((r) => Date.parse(r.time))) - endWall);
    const syncs = emperor.records.filter((r) => r.event === 'emperor.sync').length;
    const { started } = counts();
    return { ops: storm.ops, files: final.size, syncs, settledMs, lastActionMs, startedTwice: [...started.values()].filter((n) => n > 1).length };
  } finally {
    await emperor.stop();
    dir.remove();
  }
}

export function printVassalChanges(results) {
  for (const [kind, values] of Object.entries(results)) {
    if (!Array.isArray(values)) console.log(`  ${kind}: ${values}`);
    else console.log(`  ${kind}: ${fmt(summary(values))}`);
  }
}

export function printStorm(s) {
  console.log(
    `  storm: ${s.ops} file operations -> ${s.files} vassal files, ${s.syncs} reconciles; last action started ${s.lastActionMs} ms and ` +
      `everything settled (final workers ready, the others stopped) ${s.settledMs} ms after the last operation; vassals started twice: ${s.startedTwice}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('change -> action starting (emperor log timestamp), default settle time 50 ms:');
  printVassalChanges(await vassalChanges());
  console.log('the same with --emperor-settle 0.01:');
  printVassalChanges(await vassalChanges(10, ['--emperor-settle', '0.01']));
  printStorm(await stormSettle());
}
