/**
 * A patch for moto's DynamoDB transactions, which moto_server loads at start
 * as a `sitecustomize` module on its PYTHONPATH (Python imports one, if
 * found, before anything else runs). moto itself is unchanged on disk.
 *
 * moto snapshots every table a TransactWriteItems names (copy.deepcopy,
 * stream included) before applying it, and puts the snapshot in its place
 * when the transaction is cancelled. Two faults follow:
 *
 * - every transaction copies every stream record the table ever produced,
 *   so transactions slow down with everything written (about 130 ms each
 *   after 1,000 writes, against 15 ms for the same table without a stream);
 * - after a cancelled transaction, open shard iterators read the discarded
 *   shard: they miss every later record and see records of the writes the
 *   cancellation undid, which DynamoDB never streams.
 *
 * Stream records never change once written, so the patch lets the snapshot
 * share the live shard and, when moto rolls back, cuts the shard back to
 * its length before the transaction: one shard, no phantom records, and
 * transactions that cost what the table's items cost. With another moto
 * than the one it knows (moto 5), it says so on stderr and patches nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

const SITECUSTOMIZE = `# Written by kumo (lib/sim/moto-stream-patch.ts): moto's transactions share the table's stream shard
# with their rollback snapshot, and a rollback cuts the shard back to where it was.
import copy
import sys
import threading

try:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamShard
except Exception as err:  # another moto: leave it as it is
    print(f"kumo: moto's transactions left unpatched: {err}", file=sys.stderr)
else:
    _snapshot = threading.local()

    def _deepcopy(self, memo):
        # Shared while a transaction takes its snapshot; copied as usual otherwise (backups, restores).
        if getattr(_snapshot, "taking", False):
            return self
        clone = self.__class__.__new__(self.__class__)
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            setattr(clone, key, copy.deepcopy(value, memo))
        return clone

    StreamShard.__deepcopy__ = _deepcopy
    _transact_write_items = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        lengths = {name: (t.stream_shard, len(t.stream_shard.items)) for name, t in self.tables.items() if t.stream_shard is not None}
        _snapshot.taking = True
        try:
            return _transact_write_items(self, transact_items)
        except BaseException:
            # moto has put its snapshots back: drop what the cancelled writes streamed.
            for name, (shard, length) in lengths.items():
                del shard.items[length:]
                table = self.tables.get(name)
                if table is not None and table.stream_shard is shard:
                    shard.table = table
            raise
        finally:
            _snapshot.taking = False

    DynamoDBBackend.transact_write_items = transact_write_items
`;

/**
 * Writes the patch to a fresh directory and returns the environment that
 * makes a moto_server started with it load the patch; `remove()` deletes the
 * directory (Python reads it once, when it starts).
 */
export function motoStreamPatch(env: NodeJS.ProcessEnv = process.env): { env: NodeJS.ProcessEnv; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'kumo-moto-'));
  writeFileSync(join(dir, 'sitecustomize.py'), SITECUSTOMIZE);
  return {
    env: { ...env, PYTHONPATH: [dir, env.PYTHONPATH].filter(Boolean).join(delimiter) },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
