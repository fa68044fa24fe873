/**
 * The stream poller plays each consumer as an event source mapping of its
 * own, as the stack deploys them: one consumer's slow invocation holds up
 * nobody else, each sees its records in stream order, and a handler that
 * throws gets its batch again. On the AWS API emulator.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { StreamPoller } from '#lib/sim/stream-poller';
import { createStoreTable } from '#lib/store/dynamodb-table';
import { ensureEmulator } from '../helpers/moto.js';
import { waitFor } from '../helpers/wait.js';

const emulator = await ensureEmulator();
afterAll(async () => {
  await emulator?.stop();
});

type Records = DynamoDBStreamEvent['Records'];
const skOf = (records: Records) => records.map((r) => (r.dynamodb?.NewImage as { sk?: { S?: string } } | undefined)?.sk?.S);

async function table(): Promise<{ name: string; put(sk: string): Promise<void>; close(): void }> {
  const ddb = new DynamoDBClient({});
  const name = `kumo-poller-${randomUUID()}`;
  await createStoreTable(ddb, name);
  return {
    name,
    put: async (sk) => void (await ddb.send(new PutItemCommand({ TableName: name, Item: { pk: { S: 'p' }, sk: { S: sk } } }))),
    close: () => ddb.destroy(),
  };
}

describe.skipIf(!emulator)('StreamPoller', () => {
  it("delivers to each consumer on its own: a consumer's unfinished invocation holds up no other, and it gets what came meanwhile next, in order", async () => {
    const t = await table();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: string[][] = [];
    const fast: string[][] = [];
    const poller = new StreamPoller(t.name, [
      {
        name: 'slow',
        instances: [
          async (event) => {
            slow.push(skOf(event.Records) as string[]);
            await gate;
          },
        ],
      },
      { name: 'fast', instances: [async (event) => void fast.push(skOf(event.Records) as string[])] },
    ]);
    await poller.start();
    try {
      await t.put('a');
      await waitFor(() => fast.flat().includes('a') && slow.length === 1, { what: 'a delivered to both' });
      await t.put('b');
      await waitFor(() => fast.flat().includes('b'), { what: 'b delivered to the fast consumer while the slow one is busy' });
      expect(slow).toEqual([['a']]);
      release();
      await waitFor(() => slow.flat().includes('b'), { what: 'b delivered to the slow consumer' });
      expect(slow.flat()).toEqual(['a', 'b']);
      expect(fast.flat()).toEqual(['a', 'b']);
    } finally {
      release();
      await poller.stop();
      t.close();
    }
  });

  it('delivers the batch of a handler that threw again', async () => {
    const t = await table();
    const calls: string[][] = [];
    const poller = new StreamPoller(
      t.name,
      [
        {
          name: 'flaky',
          instances: [
            async (event) => {
              calls.push(skOf(event.Records) as string[]);
              if (calls.length === 1) throw new Error('first invocation fails');
            },
          ],
        },
      ],
      {},
      Math.random,
      undefined,
      10,
    );
    await poller.start();
    try {
      await t.put('a');
      await waitFor(() => calls.length >= 2, { what: 'the batch delivered again' });
      expect(calls.slice(0, 2)).toEqual([['a'], ['a']]);
      expect(poller.givenUp).toBe(0);
    } finally {
      await poller.stop();
      t.close();
    }
  });
});
