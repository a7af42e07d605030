import { createHash } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** A vassal file as found on disk: where, and what it says. */
export interface VassalFile {
  readonly path: string;
  readonly text: string;
  /** sha256 of the content: decisions are made by content, never by timestamps. */
  readonly hash: string;
}

/** What one scan of the vassal directories found. */
export interface Scan {
  readonly files: Map<string, VassalFile>;
  /**
   * Paths (files, or whole directories) that exist but could not be read, with the reason. Their vassals keep
   * running as they are: a permission slip must not stop a service. Paths that are gone are simply absent.
   */
  readonly unreadable: Map<string, string>;
  /** Vassal names that are symlinks to nothing: reported, and their vassals stop. */
  readonly dangling: string[];
  /** Watched directories that do not exist. */
  readonly missingDirs: string[];
}

/**
 * Whether a directory entry names a vassal: `*.ini`, not hidden. Editors' companions never qualify: `.x.ini.swp`,
 * `x.ini~`, `4913`, and emacs' `.#x.ini` lock links (hidden, and ending in .ini).
 */
export function isVassalName(name: string): boolean {
  return name.endsWith('.ini') && !name.startsWith('.') && name.length > 4;
}

export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Lists and reads every vassal file in `dirs`, following symlinks. A file that vanishes or cannot be read between
 * listing and reading is simply not there (the next scan sees the truth); a dangling symlink is reported.
 */
export async function scanVassalFiles(dirs: readonly string[]): Promise<Scan> {
  const files = new Map<string, VassalFile>();
  const unreadable = new Map<string, string>();
  const dangling: string[] = [];
  const missingDirs: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') missingDirs.push(dir);
      else unreadable.set(dir, (err as Error).message);
      continue;
    }
    for (const name of names.filter(isVassalName).sort()) {
      const file = path.join(dir, name);
      try {
        const text = await readFile(file, 'utf8');
        files.set(file, { path: file, text, hash: hashText(text) });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EISDIR') continue;
        // ENOENT for a listed name: a symlink to nothing, or a file deleted since the listing (then it is just gone).
        if (code === 'ENOENT') {
          if (await isSymlink(file)) dangling.push(file);
          continue;
        }
        unreadable.set(file, (err as Error).message);
      }
    }
  }
  return { files, unreadable, dangling, missingDirs };
}

async function isSymlink(file: string): Promise<boolean> {
  try {
    return (await lstat(file)).isSymbolicLink();
  } catch {
    return false;
  }
}
