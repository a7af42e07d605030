// npm run bench: every benchmark, one after the other, printing its figures; then a JSON file of results (machine,
// versions, date, each figure as {min, median, max, n} with its unit) and a Markdown table, in bench/results/.
// Benchmarks print figures; none compares a figure with a goal. The exit code is 1 only if a workload could not run.
//
//   npm run bench -- --only scale            one workload (or several: --only hot-add,restart); --list names them
//   npm run bench -- --quick                 small sizes and short windows (a smoke test, figures not comparable)
//   npm run bench -- --only scale --scale 100x2:node,1000x1:sleep --idle-seconds 30
//   npm run bench -- --no-uwsgi              without the uWSGI column
//   npm run bench -- --out DIR               where the JSON and Markdown go (default bench/results/)
// Then `node bench/readme-table.mjs` pastes the latest table into the README's Performance section.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeDrop, dropToServe } from './drop-to-serve.mjs';
import { emperorRss } from './emperor-rss.mjs';
import { ROOT } from './lib.mjs';
import { describeLoad, reloadUnderLoad } from './reload-under-load.mjs';
import { describeRestart, restartLatency } from './restart-latency.mjs';
import { markdown, Results } from './results.mjs';
import { describeScale, scaleSupervisor } from './scale.mjs';
import { uwsgiHotAdd, uwsgiMissing, uwsgiReloadUnderLoad, uwsgiRestartLatency, uwsgiScale } from './uwsgi.mjs';
import { describeStatus, statusBench } from './status.mjs';
import { printStorm, printVassalChanges, stormSettle, vassalChanges } from './vassal-changes.mjs';

const { values: opts } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    scale: { type: 'string' },
    'idle-seconds': { type: 'string' },
    'no-uwsgi': { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
    list: { type: 'boolean', default: false },
  },
});
const quick = opts.quick;
const results = new Results();
const missing = opts['no-uwsgi'] ? 'left out (--no-uwsgi)' : uwsgiMissing();
const withUwsgi = missing === undefined;
const mib = (kib) => kib / 1024;
const failed = (x) => x.socketErrors + x.non2xx;

/** Scale cases: VASSALSxWORKERS:PROGRAM; the first 100x2:node case also runs in tyrant mode and against uWSGI. */
const SCALE_CASES = opts.scale ?? (quick ? '10x2:node,20x1:sleep' : '100x2:node,100x2:sleep,1000x1:sleep,1000x1:node');
const idleSeconds = Number(opts['idle-seconds'] ?? (quick ? 5 : 30));

function addScale(workload, label, peer, r) {
  const add = (figure, unit, value) => results.add(workload, `${label}: ${figure}`, peer, unit, value);
  add('all workers spawned', 'ms', r.spawnedMs);
  add('all workers ready', 'ms', r.readyMs);
  // Ours only: uWSGI's lines carry no time to the millisecond.
  if (r.spawnedOwnMs !== undefined) add("all workers spawned, by the emperor's own records", 'ms', r.spawnedOwnMs);
  if (r.readyOwnMs !== undefined) add("all workers ready, by the emperor's own records", 'ms', r.readyOwnMs);
  add("floor: workers' CPU until ready / cores (uWSGI: masters' and workers')", 'ms', r.floorMs);
  add('emperor CPU until all ready', 'ms', r.emperorStartCpuMs);
  add('supervisor RSS (uWSGI: emperor + vassal masters)', 'MiB', mib(r.rssKiB));
  add('supervisor PSS (uWSGI: emperor + vassal masters)', 'MiB', mib(r.pssKiB));
  add('RSS of every process, workers included', 'MiB', mib(r.allRssKiB));
  add('PSS of every process, workers included', 'MiB', mib(r.allPssKiB));
  add('supervisor CPU while idle, per 30 s (uWSGI: emperor + vassal masters)', 'ms', r.idleCpuMsPer30s);
  // Ours only: the window after that one, once the start's garbage has been collected.
  if (r.laterIdleCpuMsPer30s !== undefined) add('supervisor CPU while idle, the next 30 s', 'ms', r.laterIdleCpuMsPer30s);
  add('SIGHUP: every vassal reloaded', 'ms', r.reloadMs);
  add('stop (until the emperor has exited)', 'ms', r.stopMs);
  // Warnings and errors the emperor logged meanwhile (e.g. bind helpers that timed out, vassals retried).
  for (const [event, n] of Object.entries(r.problemCounts ?? {})) add(`${event} records (warnings, errors)`, 'count', n);
}

const WORKLOADS = {
  'hot-add': {
    about: 'vassal file renamed into the directory (written beforehand; and written at once) -> its unix socket answers HTTP 200 (2 workers)',
    async run() {
      const rounds = quick ? 3 : 10;
      const ours = await dropToServe(rounds);
      console.log(describeDrop(ours));
      results.add('hot-add', 'file dropped → socket answers 200 (2 workers)', 'supervisor', 'ms', ours);
      results.add('hot-add', 'the same, file written and renamed in the same moment', 'supervisor', 'ms', ours.atOnce);
      results.add('hot-add', "the app's own start, alone (socket-holder.py starts its 2 processes → 200)", 'supervisor', 'ms', ours.appAlone);
      results.add('hot-add', "the app's start as the emperor saw it (worker spawned → ready)", 'supervisor', 'ms', ours.appStart);
      if (withUwsgi) {
        const theirs = await uwsgiHotAdd(rounds);
        console.log(`uWSGI: file dropped -> socket answers 200: median ${theirs.median.toFixed(1)} ms (n=${theirs.n})${theirs.lingering ? `; ${theirs.lingering} removed vassals kept their socket > 5 s` : ''}`);
        results.add('hot-add', 'file dropped → socket answers 200 (2 workers)', 'uwsgi', 'ms', theirs);
      }
    },
  },
  restart: {
    about: 'kill -9 of a worker -> replacement spawned / ready; vassal file edited -> first new worker spawned',
    async run() {
      const rounds = quick ? 3 : 10;
      const ours = await restartLatency(rounds);
      console.log(describeRestart(ours));
      results.add('restart', 'worker SIGKILL → replacement spawned', 'supervisor', 'ms', ours.spawned);
      results.add('restart', 'worker SIGKILL → replacement ready', 'supervisor', 'ms', ours.ready);
      results.add('restart', 'vassal file edited → first new-generation worker spawned', 'supervisor', 'ms', ours.editToSpawn);
      if (withUwsgi) {
        const theirs = await uwsgiRestartLatency(rounds);
        console.log(`uWSGI: worker SIGKILL -> replacement spawned (preforking: ready when forked): median ${theirs.median.toFixed(1)} ms (n=${theirs.n})`);
        results.add('restart', 'worker SIGKILL → replacement spawned', 'uwsgi', 'ms', theirs);
      }
    },
  },
  'reload-under-load': {
    about: 'nginx + wrk (32 connections) on a 4-worker app: baseline, 20 reloads, 20 worker SIGKILLs',
    async run() {
      const seconds = quick ? 5 : 30;
      const phases = (peer, r) => {
        if (r.skipped) return results.notice(`reload under load (${peer}) skipped: ${r.skipped}`);
        for (const [phase, x] of [['baseline (nothing happening)', r.baseline], [peer === 'uwsgi' ? '20 chain reloads requested' : '20 reloads (edit/SIGHUP)', r.reloads], ['20 worker SIGKILLs', r.kills]]) {
          results.add('reload-under-load', `${phase.replace(/^20 (chain )?reloads.*$/, 'reloads')}: failed requests`, peer, 'count', failed(x));
          results.add('reload-under-load', `${phase.replace(/^20 (chain )?reloads.*$/, 'reloads')}: p99 latency`, peer, 'ms', x.p99Ms);
        }
        results.add('reload-under-load', 'reloads: completed rolls (uWSGI: chains; a touch during a chain is ignored)', peer, 'count', r.reloads.rollsCompleted);
        results.add('reload-under-load', 'worker SIGKILLs made (a moment without a live worker skips one)', peer, 'count', r.kills.killed);
      };
      const ours = await reloadUnderLoad({ seconds });
      console.log(describeLoad(ours));
      phases('supervisor', ours);
      if (withUwsgi) {
        const theirs = await uwsgiReloadUnderLoad({ seconds });
        const chains = `${theirs.reloads?.actions} touches of the touch-chain-reload file (${theirs.reloads?.chainsStarted} chain reloads started, ${theirs.reloads?.rollsCompleted} completed)`;
        if (!theirs.skipped) console.log(`uWSGI: ${describeLoad(theirs, chains).replaceAll('\n', '\nuWSGI: ')}`);
        phases('uwsgi', theirs);
      }
    },
  },
  scale: {
    about: `N vassals x W idle workers started at once (${SCALE_CASES}); tyrant mode and uWSGI for the first 100x2:node`,
    async run() {
      let first = true;
      for (const spec of SCALE_CASES.split(',')) {
        const m = /^(\d+)x(\d+):(node|sleep)$/.exec(spec.trim());
        if (!m) throw new Error(`--scale: ${spec} is not VASSALSxWORKERS:node|sleep`);
        const [vassals, workers, program] = [Number(m[1]), Number(m[2]), m[3]];
        const label = `${vassals} × ${workers} ${program === 'node' ? 'idle Node workers' : '`sleep` workers'}${program === 'node' && withUwsgi && first ? ' (uWSGI: WSGI app)' : ''}`;
        // Each run on its own: one that fails is reported and the others still run.
        const attempt = async (what, run) => {
          try {
            await run();
          } catch (err) {
            results.error(`scale ${spec} ${what}`, err);
          }
        };
        await attempt('supervisor', async () => {
          const ours = await scaleSupervisor({ vassals, workers, program, idleSeconds });
          console.log(describeScale(ours));
          addScale('scale', label, 'supervisor', ours);
        });
        if (workers === 2) {
          await attempt('tyrant', async () => {
            const tyrant = await scaleSupervisor({ vassals, workers, program, idleSeconds, tyrant: true });
            console.log(describeScale(tyrant, 'supervisor, tyrant mode'));
            if (tyrant.skipped) results.notice(`scale, tyrant mode skipped: ${tyrant.skipped}`);
            else addScale('scale', label, 'tyrant', tyrant);
          });
        }
        if (program === 'node' && withUwsgi && first) {
          first = false;
          await attempt('uwsgi', async () => {
            const theirs = await uwsgiScale({ vassals, workers, idleSeconds });
            console.log(`uWSGI, ${vassals} vassals x ${workers} workers (WSGI app, preforking):`, JSON.stringify(theirs));
            addScale('scale', label, 'uwsgi', theirs);
          });
        }
      }
      if (idleSeconds !== 30) results.notice(`idle CPU was measured over ${idleSeconds} s and scaled to 30 s`);
    },
  },
  'start-storm': {
    about: 'a 2-worker app under wrk load while 100 x 2 Node workers start: latency with nice-until-ready 19 (default) and 0, and with nothing starting',
    async run() {
      const { describeStartStorm, startStorm } = await import('./start-storm.mjs');
      const size = quick ? { vassals: 20, workers: 2, seconds: 8 } : { vassals: 100, workers: 2, seconds: 20 };
      for (const run of [{ fleet: false }, { nice: 19 }, { nice: 0 }]) {
        const r = await startStorm({ ...size, ...run });
        console.log(describeStartStorm(r));
        if (r.skipped) {
          results.notice(`start-storm skipped: ${r.skipped}`);
          return;
        }
        const what = r.fleet ? `${size.vassals} × ${size.workers} starting, nice-until-ready ${r.nice}` : 'nothing starting';
        results.add('start-storm', `${what}: p50 latency`, 'supervisor', 'ms', r.p50Ms);
        results.add('start-storm', `${what}: p99 latency`, 'supervisor', 'ms', r.p99Ms);
        results.add('start-storm', `${what}: requests per second`, 'supervisor', 'count', r.perSecond);
        results.add('start-storm', `${what}: failed requests`, 'supervisor', 'count', r.non2xx + r.socketErrors);
        if (r.fleet) {
          results.add('start-storm', `${what}: all spawned after the drop`, 'supervisor', 'ms', r.spawnedMs);
          results.add('start-storm', `${what}: all ready after the drop`, 'supervisor', 'ms', r.readyMs);
        }
      }
    },
  },
  'spawn-cost': {
    about: 'how long one spawn blocks the spawning Node process (fork + wait for exec), per kind of child',
    async run() {
      const { spawnCost } = await import('./spawn-cost.mjs');
      for (const [name, s] of Object.entries(await spawnCost(quick ? 5 : 15))) {
        console.log(`${name}: the call blocks median ${s.median.toFixed(1)} ms`);
        results.add('spawn-cost', `${name}: the call blocks`, 'supervisor', 'ms', s);
      }
    },
  },
  'module-cost': {
    about: 'what importing each dependency (and the emperor module graph) adds to a fresh Node process',
    async run() {
      const { moduleCost } = await import('./module-cost.mjs');
      for (const r of moduleCost(quick ? 2 : 5)) {
        console.log(`import ${r.module}: ${r.ms.median.toFixed(0)} ms, +${(r.rssKiB.median / 1024).toFixed(1)} MiB RSS (+${(r.anonKiB.median / 1024).toFixed(1)} anonymous)`);
        results.add('module-cost', `import ${r.module}: RSS added`, 'supervisor', 'MiB', mib(r.rssKiB.median));
        results.add('module-cost', `import ${r.module}: time`, 'supervisor', 'ms', r.ms);
      }
    },
  },
  'emperor-rss': {
    about: 'emperor RSS with the two example vassals (4 workers)',
    async run() {
      const { rssKiB } = await emperorRss();
      console.log(`emperor RSS with the two example vassals (4 workers): ${mib(rssKiB).toFixed(1)} MiB`);
      results.add('emperor-rss', 'emperor RSS, the two example vassals (4 workers)', 'supervisor', 'MiB', mib(rssKiB));
    },
  },
  'rss-growth': {
    about: 'emperor RSS over 400 rolling reloads of a 2-worker vassal, and after 30 s idle',
    async run() {
      const { rssGrowth, describeGrowth } = await import('./rss-growth.mjs');
      const r = quick ? await rssGrowth(40, 20, 5_000) : await rssGrowth();
      console.log(describeGrowth(r));
      for (const s of r.samples) results.add('rss-growth', `emperor RSS after ${s.reloads} rolling reloads${s.idleS ? `, then ${s.idleS} s idle` : ''}`, 'supervisor', 'MiB', mib(s.rssKiB));
    },
  },
  'socket-bind': {
    about: 'SocketRegistry.lease() -> socket received (bind helper), unix and TCP, default and tyrant mode',
    async run() {
      const { socketBind } = await import('./socket-bind.mjs');
      const rounds = quick ? 3 : 9;
      for (const kind of ['unix', 'tcp']) {
        results.add('socket-bind', `lease → ${kind} socket received`, 'supervisor', 'ms', await socketBind(kind, rounds));
        if (process.getuid?.() === 0) results.add('socket-bind', `lease → ${kind} socket received`, 'tyrant', 'ms', await socketBind(kind, rounds, 'svtest-worker'));
      }
      for (const f of results.figures.filter((x) => x.workload === 'socket-bind')) console.log(`${f.label} (${f.peer}): median ${f.median.toFixed(1)} ms`);
    },
  },
  'vassal-changes': {
    about: 'each kind of change in the vassal directory -> the action starting (emperor log), settle 0.05 s and 0.01 s',
    async run() {
      const rounds = quick ? 3 : 10;
      for (const [settle, args] of [['', []], [', emperor-settle 0.01', ['--emperor-settle', '0.01']]]) {
        const r = await vassalChanges(rounds, args);
        console.log(`vassal file change -> action starting${settle || ', default emperor-settle 0.05 s'}:`);
        printVassalChanges(r);
        for (const [kind, values] of Object.entries(r)) {
          if (Array.isArray(values)) results.add('vassal-changes', `${kind} → action starts${settle}`, 'supervisor', 'ms', values);
        }
      }
    },
  },
  storm: {
    about: '1,000 files created, edited, renamed, deleted in a burst -> settled',
    async run() {
      const s = await stormSettle();
      printStorm(s);
      results.add('storm', 'last file operation → last action started', 'supervisor', 'ms', s.lastActionMs);
      results.add('storm', 'last file operation → everything settled', 'supervisor', 'ms', s.settledMs);
      results.add('storm', 'vassals started twice', 'supervisor', 'count', s.startedTwice);
    },
  },
  'vassal-read': {
    about: 'reading 1,000 vassal files: per-file strategies, first scan and rescan',
    async run() {
      const { printVassalRead, vassalRead } = await import('./vassal-read.mjs');
      const r = await vassalRead(quick ? 100 : 1000);
      printVassalRead(r);
      for (const [name, s] of Object.entries(r.perFile)) results.add('vassal-read', `${r.n} files with ${name}`, 'supervisor', 'ms', s);
      results.add('vassal-read', `scanner: first scan of ${r.n} files`, 'supervisor', 'ms', r.first);
      results.add('vassal-read', `scanner: rescan of ${r.n} unchanged files`, 'supervisor', 'ms', r.rescan);
    },
  },
  'uwsgi-reloads': {
    about: 'failed requests over 10 reloads under load, uWSGI app vassal and command = uwsgi recipes, behind nginx; the uWSGI app file under uWSGI\'s own emperor beside it',
    async run() {
      const { describeUwsgiReloads, SETUPS, uwsgiEmperorReloads, uwsgiReloads } = await import('./uwsgi-reloads.mjs');
      for (const setup of Object.keys(SETUPS)) {
        const r = await uwsgiReloads(setup, { reloads: quick ? 3 : 10 });
        console.log(describeUwsgiReloads(`uWSGI, ${setup}`, r));
        if (r.skipped) {
          results.notice(`uwsgi-reloads ${setup} skipped: ${r.skipped}`);
          continue;
        }
        results.add('uwsgi-reloads', `${setup}: failed requests over ${r.reloads} reloads`, 'supervisor', 'count', r.failed);
        results.add('uwsgi-reloads', `${setup}: requests made`, 'supervisor', 'count', r.requests);
        if (setup !== 'uwsgi-app') continue;
        // The same file under uWSGI's own emperor, in the uWSGI column of the same rows.
        const theirs = await uwsgiEmperorReloads({ reloads: quick ? 3 : 10 });
        console.log(describeUwsgiReloads('uWSGI, the same file under uWSGI\'s emperor', theirs));
        if (theirs.skipped) {
          results.notice(`uwsgi-reloads under uWSGI's emperor skipped: ${theirs.skipped}`);
          continue;
        }
        results.add('uwsgi-reloads', `${setup}: failed requests over ${theirs.reloads} reloads`, 'uwsgi', 'count', theirs.failed);
        results.add('uwsgi-reloads', `${setup}: requests made`, 'uwsgi', 'count', theirs.requests);
      }
    },
  },
  'log-flood': {
    about: 'a worker writing as fast as it can for 10 s through slow and fast log sinks: emperor RSS and CPU, another vassal\'s restarts',
    async run() {
      const { describeFlood, logFlood } = await import('./log-flood.mjs');
      const r = await logFlood(quick ? 3 : 10);
      console.log(describeFlood(r));
      for (const x of r) {
        results.add('log-flood', `${x.name}: bytes written by the flood`, 'supervisor', 'MiB', x.bytes / 1048576);
        results.add('log-flood', `${x.name}: emperor RSS peak`, 'supervisor', 'MiB', x.peakMiB);
        results.add('log-flood', `${x.name}: emperor CPU`, 'supervisor', 'ms', x.cpu * 1000);
        results.add('log-flood', `${x.name}: other vassal's SIGKILL -> replacement running, quiet`, 'supervisor', 'ms', x.quiet);
        results.add('log-flood', `${x.name}: the same during the flood`, 'supervisor', 'ms', x.flooded);
      }
    },
  },
  status: {
    about: '--status with 100 vassals: control-socket request, whole CLI run; emperor CPU idle and polled every second',
    async run() {
      const r = await statusBench({ windowS: quick ? 5 : 30 });
      console.log(describeStatus(r));
      results.add('status', `${r.vassals} vassals: request over the control socket`, 'supervisor', 'ms', r.socket);
      results.add('status', `${r.vassals} vassals: whole supervisor --status run (the installed command)`, 'supervisor', 'ms', r.command);
      results.add('status', `${r.vassals} vassals: whole node bin/supervisor.js --status run`, 'supervisor', 'ms', r.cli);
      results.add('status', "Node's own start (node -e 0), interleaved with those runs", 'supervisor', 'ms', r.node);
      if (r.withoutExtraCerts) {
        results.add('status', `${r.vassals} vassals: whole supervisor --status run, NODE_EXTRA_CA_CERTS unset`, 'supervisor', 'ms', r.withoutExtraCerts.command);
        results.add('status', `${r.vassals} vassals: whole node bin/supervisor.js --status run, NODE_EXTRA_CA_CERTS unset`, 'supervisor', 'ms', r.withoutExtraCerts.cli);
        results.add('status', "Node's own start, NODE_EXTRA_CA_CERTS unset", 'supervisor', 'ms', r.withoutExtraCerts.node);
      }
      results.add('status', 'emperor CPU per --status above idle', 'supervisor', 'ms', ((r.polled - r.idle) / r.polls) * 1000);
    },
  },
  deploy: {
    about: 'daemonize start with vassals.example (parent exit, first 200); connections refused over 5 emperor restarts under load, with and without a socket unit',
    async run() {
      const { daemonizeStart, describeDaemonize, describeRefusals, restartRefusals } = await import('./deploy.mjs');
      const d = await daemonizeStart(quick ? 3 : 10);
      console.log(describeDaemonize(d));
      results.add('deploy', 'daemonize: command start → parent exit (sockets listening)', 'supervisor', 'ms', d.toExit);
      results.add('deploy', 'daemonize: command start → first 200', 'supervisor', 'ms', d.toServe);
      const restarts = quick ? 2 : 5;
      const r = await restartRefusals(restarts);
      console.log(describeRefusals(r, restarts));
      for (const [label, v] of [['with a socket unit', r.withUnit], ['without (the emperor binds)', r.without]]) {
        const failed = v.results.reduce((n, x) => n + x.failed, 0);
        results.add('deploy', `${restarts} emperor restarts under load, ${label}: failed connections`, 'supervisor', 'count', failed);
      }
    },
  },
  'tenant-reader': {
    about: "tyrant mode's config reader: one run and its parts; 100 vassals at once in each mode",
    async run() {
      const { printTenantReader, tenantReaderBench } = await import('./tenant-reader.mjs');
      const r = await tenantReaderBench(quick ? { runs: 3, vassals: 10 } : {});
      printTenantReader(r);
      if (r.skipped) return results.notice(`tenant-reader skipped: ${r.skipped}`);
      results.add('tenant-reader', 'node -e 0 (wall)', 'tyrant', 'ms', r.reader.bare.wall);
      results.add('tenant-reader', 'reader run, typical vassal file (wall)', 'tyrant', 'ms', r.reader.reader.wall);
      results.add('tenant-reader', 'reader run, typical vassal file (CPU)', 'tyrant', 'ms', r.reader.reader.cpu);
      for (const many of r.many) {
        results.add('tenant-reader', `${many.vassals} \`sleep\` vassals at once, ${many.mode.replace(/^(default mode|emperor-tyrant), ?/, '') || 'files owned by root'}: every vassal has a worker`, many.mode.startsWith('emperor-tyrant') ? 'tyrant' : 'supervisor', 'ms', many.totalMs);
      }
    },
  },
};

if (opts.list) {
  for (const [name, w] of Object.entries(WORKLOADS)) console.log(`${name.padEnd(18)} ${w.about}`);
  process.exit(0);
}
const chosen = opts.only ? opts.only.split(',').map((s) => s.trim()) : Object.keys(WORKLOADS);
for (const name of chosen) if (!WORKLOADS[name]) throw new Error(`unknown workload ${name}; known: ${Object.keys(WORKLOADS).join(', ')}`);

const m = results.machine;
console.log(`node ${m.node}, ${m.cpus} cores (${m.model}), load average ${m.loadAverage.join(' ')}; bare node -e 0: ${m.bareNodeStartMs} ms`);
if (!withUwsgi) results.notice(`uWSGI column skipped: ${missing}`);
if (results.environment.removedFromTheEmperorsEnvironment.length) {
  results.notice(`left out of the emperor's environment (they change every Node start): ${results.environment.removedFromTheEmperorsEnvironment.join(', ')}`);
}
if (quick) results.notice('--quick: small sizes and short windows; a smoke test, not figures to compare');
for (const name of chosen) {
  console.log(`\n== ${name}: ${WORKLOADS[name].about}`);
  const started = performance.now();
  try {
    await WORKLOADS[name].run();
  } catch (err) {
    results.error(name, err);
  }
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
results.machine.loadAverageAtEnd = (await import('node:os')).loadavg().map((l) => Number(l.toFixed(2)));

mkdirSync(opts.out, { recursive: true });
const stamp = results.date.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
const json = path.join(opts.out, `bench-${stamp}.json`);
const md = path.join(opts.out, `bench-${stamp}.md`);
writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(md, markdown(results.toJSON()));
copyFileSync(json, path.join(opts.out, 'latest.json'));
copyFileSync(md, path.join(opts.out, 'latest.md'));
console.log(`\n${markdown(results.toJSON())}`);
console.log(`results: ${json}\ntable:   ${md}\n(node bench/readme-table.mjs pastes ${path.join(opts.out, 'latest.md')} into the README)`);
process.exitCode = results.errors.length > 0 ? 1 : 0;
