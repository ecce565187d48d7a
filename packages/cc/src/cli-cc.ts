// Entry of the katana-cc binary (bin/katana-cc.mjs): the wrapper around KATANA_REAL_CC (default cc).
import { runWrapper } from './wrapper/main.js';

process.exit(await runWrapper('c', process.argv.slice(2)));
