import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, vi } from 'vitest';
import { loadLoop, type LoadResult } from '../../bench/load-loop.mjs';
import { DEFAULT_UWSGI_APP_SETTINGS } from '../../src/config/uwsgi-app.js';
import { parseProcStat } from '../../src/runtime/proc-stat.js';
import type { EmperorProcess } from './emperor.js';
import { NGINX } from './nginx.js';

/** Debian's uWSGI (uwsgi-core), the binary uWSGI app vassals run with by default. */
export const UWSGI = DEFAULT_UWSGI_APP_SETTINGS.binary;

function flaskInstalled(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import flask'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why the uWSGI end-to-end tests cannot run here ('' when they can): they need uWSGI with its python3 plugin,
 * Flask and nginx. In CI (.ci/run installs them) they must run: a missing one fails there instead of skipping.
 */
export const UWSGI_SKIP = ((): string => {
  if (process.env.CI === 'true') return '';
  const missing = [
    !existsSync(UWSGI) && 'uwsgi-core',
    !existsSync('/usr/lib/uwsgi/plugins/python3_plugin.so') && 'uwsgi-plugin-python3',
    !flaskInstalled() && 'python3-flask',
    !NGINX && 'nginx',
  ].filter(Boolean);
  return missing.length ? ` [SKIPPED: apt-get install ${missing.join(' ')}]` : '';
})();
if (UWSGI_SKIP) console.warn(`uWSGI tests${UWSGI_SKIP}`);

/**
 * A small Flask app in `dir` as module `module` with the WSGI object `name`: `/` answers `hello PID UID GID`,
 * `/slow?s=SECONDS` sleeps first (requests in flight), `/env?name=X` answers the variable.
 */
export function writeFlaskApp(dir: string, module: string, name: string): void {
  const file = path.join(dir, `${module}.py`);
  writeFileSync(
    file,
    [
      'import os, time',
      'from flask import Flask, request',
      `${name} = Flask(__name__)`,
      `@${name}.route("/")`,
      'def hello():',
      '    return "hello %d %d %d" % (os.getpid(), os.getuid(), os.getgid())',
      `@${name}.route("/slow")`,
      'def slow():',
      '    time.sleep(float(request.args.get("s", "1")))',
      '    return "slow %d" % os.getpid()',
      `@${name}.route("/env")`,
      'def env():',
      '    return os.environ.get(request.args["name"], "-")',
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o644);
}

export interface Proc {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/** A process and its live children (uWSGI's master and workers), with their real uid and gid, from /proc. */
export function processFamily(pid: number): Proc[] {
  const ids = (p: number): Proc | undefined => {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      return { pid: p, uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]), gid: Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]) };
    } catch {
      return undefined;
    }
  };
  const children = readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const stat = parseProcStat(readFileSync(`/proc/${e}/stat`, 'utf8'));
        return stat.ppid === pid && stat.state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
  return [pid, ...children].flatMap((p) => ids(p) ?? []);
}

/**
 * Reloads the vassal `count` times under load through nginx (port), alternating an edit of `file` (`edit(i)`
 * gives its new text) and SIGHUP, each once the previous roll has completed; returns the load's counts.
 */
export async function reloadUnderLoad(
  emperor: EmperorProcess,
  options: { port: number; file: string; edit: (i: number) => string; count: number; path?: string; connections?: number },
): Promise<LoadResult> {
  const load = loadLoop({ port: options.port, path: options.path ?? '/', connections: options.connections ?? 6 });
  try {
    for (let i = 1; i <= options.count; i++) {
      const before = emperor.events('vassal.reloaded').length;
      // Some requests before each reload, so that every roll happens under load.
      const served = load.result.ok;
      await vi.waitFor(() => expect(load.result.ok).toBeGreaterThan(served + 20), { timeout: 20_000, interval: 20 });
      if (i % 2) writeFileSync(options.file, options.edit(i));
      else emperor.child.kill('SIGHUP');
      await vi.waitFor(() => expect(emperor.events('vassal.reloaded').length).toBeGreaterThan(before), { timeout: 30_000, interval: 50 });
      // The next roll stops this master: not before it can take a graceful stop (see uwsgiSettled).
      await uwsgiSettled(emperor.spawnedPids().at(-1)!);
    }
  } finally {
    await load.stop();
  }
  return load.result;
}

/** Whether process `pid` has a handler for SIGHUP (/proc/PID/status SigCgt, bit 0); false once it is gone. */
function catchesHup(pid: number): boolean {
  try {
    const mask = /^SigCgt:\s+([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & 1n) === 1n;
  } catch {
    return false;
  }
}

/**
 * Waits until uWSGI master `master` is in its main loop (it catches SIGHUP from then on; before, SIGHUP is ignored)
 * and each of its workers catches SIGHUP too. uWSGI 2.0.21 says it is ready once worker 1 accepts; a graceful stop
 * before the others have their handler loses their SIGHUP (ignored), and the master waits for them for its whole
 * mercy (60 s). Tests that stop a master just after it started wait for this first.
 */
export async function uwsgiSettled(master: number): Promise<void> {
  await vi.waitFor(
    () => {
      const family = processFamily(master);
      expect(family.length).toBeGreaterThan(1);
      expect(family.filter((p) => !catchesHup(p.pid)).map((p) => p.pid)).toEqual([]);
    },
    { timeout: 30_000, interval: 50 },
  );
}
