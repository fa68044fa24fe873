import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '#lib/store/sqlite';
import type { Store } from '#lib/store/types';
import { ManualClock } from '#lib/util/clock';
import { storeContract } from './contract.js';

const paths = new WeakMap<Store, string>();

storeContract(
  'sqlite',
  {
    async make({ clock, retentionMs }) {
      const path = join(mkdtempSync(join(tmpdir(), 'kumo-store-')), 'state.db');
      const store = new SqliteStore({ path, clock, ...(retentionMs !== undefined ? { retentionMs } : {}) });
      paths.set(store, path);
      return store;
    },
    async reopen(store) {
      const path = paths.get(store)!;
      await store.close();
      return new SqliteStore({ path });
    },
  },
  () => new ManualClock(),
);
