// Writing a file so that readers see the old or the new content, never a part, even across a power
// cut: temp file beside it, fsync, rename, fsync of the directory. Used for every file the agent
// writes on an operator's behalf (rule and task files through the local API).

import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString("hex")}.tmp`);
  const fh = await open(tmp, "w", 0o644);
  try {
    await fh.writeFile(text, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(file));
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename itself durable; not supported everywhere (Windows), where it is best effort.
  try {
    const d = await open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Best effort.
  }
}
