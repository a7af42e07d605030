/**
 * sd_notify(3) messages: newline-separated `KEY=VALUE` assignments in one datagram (READY=1, STATUS=..., ...).
 * Pure. Lines without `=` are ignored, as systemd does.
 */
export function parseNotifyMessage(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return fields;
}
