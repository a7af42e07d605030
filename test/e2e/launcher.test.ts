import { readFileSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { describe, expect, it, vi } from 'vitest';
import { CLI, EmperorProcess, LAUNCHER, NODE, fixtureCommand, vassalIni } from '../support/emperor.js';
import { sandbox } from '../support/sandbox.js';

const dir = sandbox('svl');

/** What Node 20 prints at start when NODE_EXTRA_CA_CERTS names a file it cannot load. */
const CERT_WARNING = /extra certs/i;

async function run(argv: readonly string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await execa(argv[0] as string, argv.slice(1), { reject: false, env, timeout: 60_000 });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('the installed command, bin/supervisor', () => {
  it('runs a control command without NODE_EXTRA_CA_CERTS, also through a symlink as npm installs it; node bin/supervisor.js reads the variable', async () => {
    const env = { NODE_EXTRA_CA_CERTS: dir.file('missing.pem') };
    const direct = await run([NODE, CLI, '--version'], env);
    // The control: the variable costs a read, and a warning, when Node starts with it.
    expect(direct.stderr).toMatch(CERT_WARNING);
    const linked = dir.file('bin/supervisor');
    await mkdir(dir.file('bin'));
    await symlink(LAUNCHER, linked);
    for (const command of [LAUNCHER, linked]) {
      const launched = await run([command, '--version'], env);
      expect(launched).toEqual({ code: 0, stdout: direct.stdout, stderr: '' });
    }
  });

  it('--status through it prints the table with nothing on stderr', async () => {
    const vassals = dir.file('vassals');
    await mkdir(vassals);
    await writeFile(`${vassals}/app.ini`, vassalIni({ command: fixtureCommand('forever'), processes: 2, 'ready-after': 0.2 }));
    const socket = dir.file('control.sock');
    const emperor = new EmperorProcess(['--emperor', vassals, '--control-socket', socket]);
    await vi.waitFor(() => expect(emperor.events('worker.ready')).toHaveLength(2), { timeout: 30_000 });
    const status = await run([LAUNCHER, '--status', socket], { NODE_EXTRA_CA_CERTS: dir.file('missing.pem') });
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/app\.ini\s+running\s+2\/2/);
  });

  it('an emperor started through it keeps the variable: its workers inherit NODE_EXTRA_CA_CERTS', async () => {
    const vassals = dir.file('vassals');
    await mkdir(vassals);
    await writeFile(`${vassals}/app.ini`, vassalIni({ command: fixtureCommand('forever'), processes: 2, 'ready-after': 0.2 }));
    const bundle = dir.file('bundle.pem');
    const emperor = new EmperorProcess(['--emperor', vassals], { launcher: true, env: { NODE_EXTRA_CA_CERTS: bundle } });
    await vi.waitFor(() => expect(emperor.events('worker.ready')).toHaveLength(2), { timeout: 30_000 });
    for (const pid of emperor.spawnedPids('app.ini')) {
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain(`NODE_EXTRA_CA_CERTS=${bundle}`);
    }
    // The emperor's own Node runs with the young generation the launcher asks for (the workers are not Node's business).
    const emperorPid = emperor.child.pid as number;
    expect(readFileSync(`/proc/${emperorPid}/cmdline`, 'utf8').split('\0').slice(1, 3)).toEqual([EMPEROR_NODE_OPTION, CLI]);
  });
});

/** The Node option every way of starting the emperor passes (bench/lib.mjs EMPEROR_NODE_ARGS says why). */
const EMPEROR_NODE_OPTION = '--max-semi-space-size=1';

describe('the emperor\'s Node options', () => {
  it('are the same in the launcher, npm start, every shipped unit and manifest, and the benchmarks', async () => {
    const read = (file: string): string => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    const starts: Record<string, RegExp> = {
      'bin/supervisor': /^young=(\S+)$/m,
      'package.json': /"start": "node (\S+) bin\/supervisor\.js/,
      'systemd/supervisor.service': /^ExecStart=\/usr\/bin\/node (\S+) \/opt\/supervisor\/bin\/supervisor\.js/m,
      'systemd/supervisor-notify.service': /^ExecStart=\/usr\/bin\/node (\S+) \/opt\/supervisor\/bin\/supervisor\.js/m,
      'vassals.example/guide-003/systemd/supervisor.service': /^ExecStart=\/usr\/bin\/node (\S+) \/opt\/supervisor\/bin\/supervisor\.js/m,
      'docs/deploy/upstart/supervisor.conf': /^exec \/usr\/bin\/node (\S+) \/opt\/supervisor\/bin\/supervisor\.js/m,
      'docs/deploy/k8s/deployment.yaml': /command: \["\/usr\/local\/bin\/node", "([^"]+)", "\/opt\/supervisor\/bin\/supervisor\.js", "--emperor"/,
    };
    for (const [file, pattern] of Object.entries(starts)) expect(pattern.exec(read(file))?.[1], file).toBe(EMPEROR_NODE_OPTION);
    const bench = (await import(new URL('../../bench/lib.mjs', import.meta.url).href)) as { EMPEROR_NODE_ARGS: string[] };
    expect(bench.EMPEROR_NODE_ARGS).toEqual([EMPEROR_NODE_OPTION]);
  });
});
