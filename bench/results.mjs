// What a bench run records: the machine and versions it ran with, and every figure as {min, median, max, n} with its
// unit, per peer (the supervisor, the supervisor in tyrant mode, uWSGI). Written as JSON and as a Markdown table
// (bench/readme-table.mjs pastes the table into the README).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { NODE_START_VARIABLES, ROOT, summary } from './lib.mjs';
import { NGINX } from './nginx.mjs';
import { WRK } from './reload-under-load.mjs';
import { UWSGI, uwsgiVersion } from './uwsgi.mjs';

/** The columns of the table, in order. */
export const PEERS = {
  supervisor: 'supervisor',
  tyrant: 'supervisor, tyrant mode',
  uwsgi: 'uWSGI',
};

function run(file, args) {
  try {
    // nginx -v writes to stderr.
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    return err.stderr?.toString().trim() || undefined;
  }
}

/** `node -e 0` wall time (ms), median of 5: how long a bare Node start takes on this machine, right now. */
function bareNodeStartMs() {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, ['-e', '0'], { env: { PATH: process.env.PATH } });
    times.push(performance.now() - t0);
  }
  return summary(times).median;
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model.trim(),
    memoryMiB: Math.round(os.totalmem() / 2 ** 20),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    bareNodeStartMs: Number(bareNodeStartMs().toFixed(1)),
  };
}

export function versions() {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8'));
  const commit = run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = run('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no']);
  return {
    supervisor: `${pkg.version}${commit ? ` (${commit}${dirty ? ', modified' : ''})` : ''}`,
    uwsgi: UWSGI ? uwsgiVersion() : undefined,
    nginx: NGINX ? run(NGINX, ['-v'])?.replace(/^nginx version: nginx\//, '') : undefined,
    wrk: WRK ? /wrk ([\d.]+)/.exec(run(WRK, ['-v']) ?? '')?.[1] : undefined,
  };
}

/** The figures of one run, added as workloads finish. */
export class Results {
  constructor() {
    this.date = new Date().toISOString();
    this.machine = machine();
    this.versions = versions();
    this.environment = { removedFromTheEmperorsEnvironment: NODE_START_VARIABLES.filter((name) => process.env[name] !== undefined) };
    this.figures = [];
    this.notices = [];
    this.errors = [];
  }

  /**
   * One figure. `values`: the measurements (numbers) or a summary with n, min, median, max. `workload`: the `--only`
   * name; `label`: the row in the table; `peer`: a key of PEERS; `unit`: 'ms', 's', 'MiB', 'count', ...
   */
  add(workload, label, peer, unit, values) {
    if (values === undefined || (Array.isArray(values) && values.length === 0)) return;
    const s = typeof values === 'number' ? summary([values]) : Array.isArray(values) ? summary(values) : values;
    if (!Number.isFinite(s.median)) return;
    this.figures.push({ workload, label, peer, unit, min: s.min, median: s.median, max: s.max, n: s.n });
  }

  notice(text) {
    this.notices.push(text);
    console.log(`notice: ${text}`);
  }

  error(workload, err) {
    this.errors.push({ workload, message: String(err?.stack ?? err) });
    console.log(`error in ${workload}: ${err?.stack ?? err}`);
  }

  toJSON() {
    return { date: this.date, machine: this.machine, versions: this.versions, environment: this.environment, figures: this.figures, notices: this.notices, errors: this.errors };
  }
}

const group = (n) => n.toLocaleString('en-US');

/** How to show values of `unit` around `median`: the unit shown and the divisor (ms from 10 s on are shown in s). */
function scaleFor(median, unit) {
  if (unit === 'ms' && median >= 10_000) return { shown: 's', divisor: 1000 };
  return { shown: unit === 'count' ? '' : unit, divisor: 1 };
}

/** `value` with as many decimals as `like` deserves (three significant digits or more), so a range reads like its median. */
function number(value, unit, like = value) {
  if (unit === 'count' || Math.abs(like) >= 100) return group(Math.round(value));
  return value.toFixed(Math.abs(like) >= 10 ? 1 : 2);
}

/** A value in its unit, for a table cell: ms below 10 s, then seconds; counts and MiB as they are. */
export function formatValue(value, unit) {
  const { shown, divisor } = scaleFor(value, unit);
  return `${number(value / divisor, unit)}${shown ? ` ${shown}` : ''}`;
}

function cell(f) {
  if (!f) return '–';
  const median = formatValue(f.median, f.unit);
  if (f.n === 1) return median;
  const { divisor } = scaleFor(f.median, f.unit);
  const like = f.median / divisor;
  return `${median} (${number(f.min / divisor, f.unit, like)}–${number(f.max / divisor, f.unit, like)}, n=${f.n})`;
}

/** The machine and versions in one line. */
export function describeRun(r) {
  const m = r.machine;
  const v = r.versions;
  return [
    `${r.date.slice(0, 16).replace('T', ' ')} UTC`,
    `${m.cpus} × ${m.model}, ${group(m.memoryMiB)} MiB, ${m.kernel}, Node ${m.node} (bare \`node -e 0\`: ${m.bareNodeStartMs} ms)`,
    `load average at the start ${m.loadAverage.join(' / ')}`,
    `supervisor ${v.supervisor}`,
    ...(v.uwsgi ? [`uWSGI ${v.uwsgi}`] : []),
    ...(v.nginx ? [`nginx ${v.nginx}`] : []),
    ...(v.wrk ? [`wrk ${v.wrk}`] : []),
  ].join('; ');
}

/** The figures as one Markdown table: a row per label, a column per peer that has any figure. */
export function markdown(r) {
  const peers = Object.keys(PEERS).filter((p) => r.figures.some((f) => f.peer === p));
  const rows = new Map();
  for (const f of r.figures) {
    const key = `${f.workload}\u0000${f.label}`;
    if (!rows.has(key)) rows.set(key, { workload: f.workload, label: f.label, cells: {} });
    rows.get(key).cells[f.peer] = f;
  }
  const lines = [
    `Measured ${describeRun(r)}.`,
    '',
    `| workload | figure | ${peers.map((p) => PEERS[p]).join(' | ')} |`,
    `|---|---|${peers.map(() => '---|').join('')}`,
    ...[...rows.values()].map((row) => `| ${row.workload} | ${row.label} | ${peers.map((p) => cell(row.cells[p])).join(' | ')} |`),
  ];
  if (r.notices.length) lines.push('', ...r.notices.map((n) => `- ${n}`));
  if (r.errors.length) lines.push('', ...r.errors.map((e) => `- **${e.workload} failed**: ${e.message.split('\n')[0]}`));
  return `${lines.join('\n')}\n`;
}
