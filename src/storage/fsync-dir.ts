import * as fs from 'node:fs/promises';

/** Makes a directory's entries (a created, renamed or deleted file) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
