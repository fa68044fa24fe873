/**
 * moto_server as the suite starts it (lib/sim/moto-stream-patch.ts loaded):
 * a cancelled TransactWriteItems streams nothing, and a stream iterator opened
 * before it reads every later write, as DynamoDB Streams do.
 */
import { DescribeTableCommand, DynamoDBClient, PutItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createStoreTable } from '#lib/store/dynamodb-table';
import { ensureEmulator } from '../helpers/moto.js';

const emulator = await ensureEmulator();
afterAll(async () => {
  await emulator?.stop();
});

describe.skipIf(!emulator)('moto_server with the stream patch', () => {
  it('streams nothing for a cancelled transaction, and an open iterator reads every write after it', async () => {
    const ddb = new DynamoDBClient({});
    const streams = new DynamoDBStreamsClient({});
    const TableName = `kumo-patch-${randomUUID()}`;
    try {
      await createStoreTable(ddb, TableName);
      const put = (sk: string) => ddb.send(new PutItemCommand({ TableName, Item: { pk: { S: 'p' }, sk: { S: sk } } }));
      await put('before');
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName }));
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: Table!.LatestStreamArn! }));
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({ StreamArn: Table!.LatestStreamArn!, ShardId: StreamDescription!.Shards![0]!.ShardId!, ShardIteratorType: 'LATEST' }),
      );

      // The first write succeeds, the second's condition fails: the transaction is cancelled as a whole.
      await expect(
        ddb.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Put: { TableName, Item: { pk: { S: 'p' }, sk: { S: 'cancelled' } } } },
              { Put: { TableName, Item: { pk: { S: 'p' }, sk: { S: 'before' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        ),
      ).rejects.toThrow(/cancel/i);
      await put('after');

      const { Records } = await streams.send(new GetRecordsCommand({ ShardIterator: ShardIterator! }));
      expect(Records?.map((r) => r.dynamodb?.Keys?.sk?.S)).toEqual(['after']);
    } finally {
      ddb.destroy();
      streams.destroy();
    }
  });
});
