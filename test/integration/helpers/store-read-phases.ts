/** Prints the phases of every migration in the SQLite store at argv[2], as another rehome process would read them. */
import { openSqliteStore } from '../../../src/store/index.js';

const store = openSqliteStore(process.argv[2] as string);
process.stdout.write((await store.listMigrations()).map((m) => m.phase).join(','));
await store.close();
