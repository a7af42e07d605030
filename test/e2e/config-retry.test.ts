// A config that failed for a reason outside its file (a missing include, an unset variable) is retried with the
// start backoff and starts once the cause is gone; one that is wrong in its own text waits for its file to change.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess, fixtureCommand, type LogRecord } from '../support/emperor.js';
import { sandbox } from '../support/sandbox.js';
import { ask } from '../support/serving.js';

const dir = sandbox('retry');
const UNSET = 'SV_TEST_NEVER_SET_VARIABLE';

/** Syncs that retried `file` (the retry of a failed vassal shows as a reload of its unchanged file). */
const retries = (emperor: EmperorProcess, file: string): LogRecord[] =>
  emperor.events('emperor.sync').filter((r) => (r.reload as string[] | undefined)?.includes(file));

describe('config errors with an external cause', () => {
  it('are retried until the cause is gone, logging their findings once; errors of the text itself are not retried', async () => {
    expect(process.env[UNSET]).toBeUndefined();
    const vassals = dir.file('vassals');
    await mkdir(vassals);
    const include = path.join(vassals, 'base.ini');
    const files = {
      include: path.join(vassals, 'needs-include.ini'),
      variable: path.join(vassals, 'needs-variable.ini'),
      textual: path.join(vassals, 'textual.ini'),
    };
    // The include gives the command and the socket: without it there is nothing to run.
    await writeFile(files.include, ['[uwsgi]', 'ini = base.ini', 'processes = 1', ''].join('\n'));
    await writeFile(files.variable, ['[uwsgi]', `command = ${fixtureCommand('forever')}`, `env = X=$(${UNSET})`, ''].join('\n'));
    await writeFile(files.textual, ['[uwsgi]', `command = ${fixtureCommand('forever')}`, 'processes = lots', ''].join('\n'));
    const emperor = new EmperorProcess(['--emperor', vassals]);

    const configError = (file: string) => emperor.waitForLog((r) => r.event === 'vassal.config-error' && r.file === file);
    expect((await configError(files.include)).msg).toBe(
      'vassal needs-include.ini: config has errors; not started; its cause is outside the file: retrying in 1 s (or when the file changes)',
    );
    expect((await configError(files.variable)).retryInMs).toBe(1000);
    expect((await configError(files.textual)).msg).toBe('vassal textual.ini: config has errors; not started');
    const diagnostics = (file: string): string[] => emperor.events('config.diagnostic').filter((r) => r.file === file).map((r) => r.msg);
    expect(diagnostics(files.variable)).toEqual([
      `${files.variable}:3: error: invalid value for env: environment variable ${UNSET} is not set (to give a default, write $(${UNSET}:-value))`,
    ]);

    // Retried, with backoff (1 s, then 2 s), but its unchanged findings are not logged again.
    await vi.waitFor(() => expect(retries(emperor, files.variable).length).toBeGreaterThanOrEqual(2), { timeout: 20_000, interval: 100 });
    expect(diagnostics(files.variable)).toHaveLength(1);
    expect(emperor.events('vassal.config-error').filter((r) => r.file === files.variable)).toHaveLength(1);
    // The textual error was never retried in the same time, and said so once.
    expect(retries(emperor, files.textual)).toEqual([]);
    expect(diagnostics(files.textual)).toHaveLength(1);
    expect(emperor.spawnedPids()).toEqual([]);

    // The include appears; the vassal file itself is not touched. The next retry starts the vassal.
    await writeFile(include, ['[uwsgi]', `command = ${fixtureCommand('serve-on-fd3')}`, 'socket = app.sock', 'notification-fd = auto', ''].join('\n'));
    await vi.waitFor(() => expect(emperor.events('worker.ready', 'needs-include.ini')).toHaveLength(1), { timeout: 30_000 });
    expect((await ask(path.join(vassals, 'app.sock'))).worker).toBe(1);
    expect(emperor.spawnedPids('needs-variable.ini')).toEqual([]);
    expect(emperor.spawnedPids('textual.ini')).toEqual([]);
  });
});
