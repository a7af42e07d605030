import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config/options/index.js';
import { optionsMarkdown } from '../../src/config/options/options-doc.js';

describe('docs/options.md', () => {
  it('is exactly what the option table generates (run `npm run docs` after changing an option)', async () => {
    const checkedIn = await readFile(new URL('../../docs/options.md', import.meta.url), 'utf8');
    expect(checkedIn).toBe(optionsMarkdown());
  });

  it('documents every option, and every documented default parses with its own type', () => {
    const doc = optionsMarkdown();
    for (const spec of OPTIONS) {
      expect(doc).toContain(`\`${spec.name}\``);
      expect(spec.doc.length).toBeGreaterThan(10);
      if (spec.default !== undefined && spec.type.typed && spec.type.name !== 'path') {
        expect(spec.type.parse(spec.default, { baseDir: '/' }), spec.name).toMatchObject({ ok: true });
      }
    }
  });
});
