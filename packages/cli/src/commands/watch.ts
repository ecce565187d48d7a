// `katana watch [DIR]`: journal the objects that change under DIR (default: the current folder)
// until interrupted, so that `katana diff` and katana-make compare only those. Start it before the
// build begins; it prints one line once ready. SIGINT or SIGTERM stop it cleanly (exit 0).
import { resolve } from 'node:path';
import { parseCommandArgs } from '../args.js';
import { toJson } from '../json.js';
import { UsageError } from '../usage-error.js';

export const watchUsage = 'katana watch [DIR] [--store DIR] [--json]';

/** Runs `katana watch`; resolves with the exit code once a signal stopped it. */
export async function watchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('watch', argv, {
    store: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 1) throw new UsageError(`usage: ${watchUsage}`);
  const dir = resolve(positionals[0] ?? '.');
  const [{ startWatcher }, { ObjectStore, findProjectRoot }] = await Promise.all([import('@katana/tracker'), import('@katana/cc')]);
  const store = values.store ? new ObjectStore(resolve(values.store), findProjectRoot(dir)) : ObjectStore.locate({ cwd: dir });
  const watcher = await startWatcher(dir, store);
  const objects = Object.keys(watcher.journal.baseline).length;
  process.stdout.write(
    values.json
      ? `${toJson({ ok: true, ready: true, dir: watcher.journal.dir, journal: watcher.journalFile, objects })}\n`
      : `katana watch: ready; watching ${watcher.journal.dir} (${objects} objects), journal ${watcher.journalFile}\n`,
  );
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await watcher.close();
  if (!values.json) process.stdout.write(`katana watch: stopped (${signal}); ${watcher.journal.changed.length} object(s) changed\n`);
  return 0;
}
