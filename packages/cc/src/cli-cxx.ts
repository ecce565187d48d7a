// Entry of the katana-c++ binary (bin/katana-c++.mjs): the wrapper around KATANA_REAL_CXX (default c++).
import { runWrapper } from './wrapper/main.js';

process.exit(await runWrapper('c++', process.argv.slice(2)));
