// Reads configs in a worker thread, from the built code (dist/), so that a test can give each read a deadline: a
// read that blocks (a FIFO opened for reading waits for a writer) blocks this thread, not the test's.
// Message in: { id, file, text, templates, scanDir }. Out: { id, outcomes } or { id, threw }.
import { writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const dist = new URL('../../dist/', import.meta.url);
const { systemHost } = await import(new URL('config/config-host.js', dist).href);
const { parseVassalText } = await import(new URL('config/load-vassal.js', dist).href);
const { inspectConfigFile } = await import(new URL('config/config-file.js', dist).href);
const { VassalScanner } = await import(new URL('emperor/vassal-files.js', dist).href);
const { vassalSource } = await import(new URL('emperor/vassal-source.js', dist).href);

const host = systemHost({ HOME: '/home/x' });
const scanner = new VassalScanner();

/** The shape of a result, for the test to check: a config, or errors; every finding with a file and a message. */
function outcome(result) {
  return {
    ok: result.ok ?? !result.diagnostics.some((d) => d.severity === 'error'),
    diagnostics: result.diagnostics.map((d) => ({ severity: d.severity, file: d.file, message: d.message })),
    command: result.ok && result.config ? result.config.command.length : undefined,
  };
}

parentPort.on('message', async ({ id, file, text, templates, textFile, scanDir }) => {
  try {
    // The text under test, as the vassal file's content (the emperor passes what it read)...
    writeFileSync(textFile, text);
    const defaults = { include: templates.map((path, i) => ({ path, source: { file: '/srv/emperor.ini', line: i + 1 } })), set: [] };
    const parsed = parseVassalText(text, textFile, { host, defaults });
    // ... and the vassal file read by name: the text file or any of the file kinds.
    const inspected = inspectConfigFile(file, host);
    // The emperor's own read of a vassal file of that kind (scanDir/v.ini names it).
    const scan = await scanner.scan([vassalSource(scanDir, ['.ini'])], 0);
    parentPort.postMessage({
      id,
      outcomes: [outcome(parsed), outcome(inspected)],
      scan: { files: [...scan.files.keys()], unreadable: [...scan.unreadable.entries()] },
    });
  } catch (err) {
    parentPort.postMessage({ id, threw: String(err?.stack ?? err) });
  }
});
parentPort.postMessage({ ready: true });
