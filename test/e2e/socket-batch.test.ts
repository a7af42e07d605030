// Sockets of many vassals started together are bound together (one bind helper job): one socket that cannot be
// bound fails its own vassal, not the others of the same job.
import net from 'node:net';
import { writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { EmperorProcess } from '../support/emperor.js';
import { freePort } from '../support/nginx.js';
import { sandbox } from '../support/sandbox.js';
import { ask, askTcp, serveIni } from '../support/serving.js';

const dir = sandbox();

describe('binding sockets together', () => {
  it('starts 20 vassals in one sync; a port in use fails only its own vassal, and it starts once the port is free', async () => {
    const port = await freePort();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      for (let i = 0; i < 20; i++) await writeFile(dir.file(`v${i}.ini`), serveIni(`v${i}.sock`, { processes: 1 }));
      await writeFile(dir.file('taken.ini'), serveIni(`127.0.0.1:${port}`, { processes: 1 }));
      const emperor = new EmperorProcess(['--emperor', dir.path]);
      const failed = await emperor.waitForLog((r) => r.event === 'vassal.start-failed' && r.vassal === 'taken.ini', 30_000);
      expect(failed.msg).toContain(`127.0.0.1:${port}`);
      expect(String(failed.err)).toMatch(/EADDRINUSE|in use/);
      for (let i = 0; i < 20; i++) await vi.waitFor(() => ask(dir.file(`v${i}.sock`)), { timeout: 30_000, interval: 50 });
      expect(emperor.events('vassal.start-failed').filter((r) => r.vassal !== 'taken.ini')).toEqual([]);
      // Freed, the port is bound at the vassal's next retry.
      await new Promise((resolve) => squatter.close(resolve));
      await vi.waitFor(() => askTcp(port), { timeout: 30_000, interval: 100 });
    } finally {
      if (squatter.listening) await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
