/**
 * `kumo describe`: each kind's describer (its module in lib/kinds names it:
 * kubectl's own, or kubectl's generic describer), with the object's Events. `describe
 * TYPE PREFIX` describes every object whose name starts with PREFIX when no
 * object has exactly that name, as kubectl does.
 */
import { Command } from 'commander';
import type { Event } from '../../api/core/v1/event.js';
import type { KObject } from '../../api/object.js';
import { describeWith, tolerate } from '../../kinds/describe.js';
import type { DescribeContext } from '../../kinds/kind.js';
import { type ResourceType } from '../../api/registry.js';
import { builtinKindOf } from '../../kinds/resources.js';
import { isNotFound } from '../../api/errors.js';
import type { KubeClient } from '../../client/client.js';
import { describeGeneric } from '../../printers/describe/generic.js';
import { AggregateCliError, CliError } from '../errors.js';
import { eventsFor, listObjects, withTypeMeta } from '../fetch.js';
import { mapManifests, readManifests } from '../manifests.js';
import { collect } from '../options.js';
import { resolveTargets } from '../resources.js';
import type { Cli, Session } from '../session.js';

interface DescribeOptions {
  selector?: string;
  allNamespaces?: boolean;
  showEvents: boolean;
  filename?: string[];
  recursive?: boolean;
  chunkSize: string;
}

/** Renders one object with its kind's describer, fetching what that describer shows besides the object. */
export async function describeObject(client: KubeClient, rt: ResourceType, obj: KObject, showEvents: boolean, now: number): Promise<string> {
  const ctx: DescribeContext = {
    now,
    events: (opts = {}) => (showEvents ? tolerate(eventsFor(client, obj, opts), [] as Event[]) : Promise.resolve(undefined)),
    list: async <T extends KObject>(kind: ResourceType, namespace: string | undefined, q: { labelSelector?: string; fieldSelector?: string }) =>
      (await listObjects<T>(client, kind, namespace, q)).items,
    get: <T extends KObject>(kind: ResourceType, namespace: string, name: string) => client.get<T>(kind, namespace, name),
  };
  // A kind the CLI does not know is described as kubectl describes one without a describer.
  const kind = builtinKindOf(rt);
  return kind ? describeWith(kind, obj, ctx) : describeGeneric(obj, await ctx.events(), now);
}

interface Found {
  rt: ResourceType;
  obj: KObject;
}

async function runDescribe(s: Session, args: string[], opts: DescribeOptions): Promise<void> {
  const client = s.client();
  const chunkSize = Number(opts.chunkSize);
  const found: Found[] = [];
  const errors: unknown[] = [];
  const nsOf = (rt: ResourceType) => (rt.namespaced ? s.namespace : undefined);

  if (opts.filename?.length) {
    for (const m of mapManifests(await readManifests(opts.filename, { recursive: opts.recursive ?? false, stdin: () => s.io.readStdin() }))) {
      if (!m.rt) {
        errors.push(m.error);
        continue;
      }
      try {
        const ns = m.rt.namespaced ? (m.object.metadata.namespace ?? s.namespace) : undefined;
        found.push({ rt: m.rt, obj: withTypeMeta(m.rt, await client.get(m.rt, ns, m.object.metadata.name ?? '')) });
      } catch (err) {
        errors.push(err);
      }
    }
  } else {
    if (args.length === 0)
      throw new CliError('You must specify the type of resource to describe. Use "kumo api-resources" for a complete list of supported resources.');
    const targets = await resolveTargets(client, args);
    for (const t of targets) {
      if (t.names.length === 0) {
        try {
          const ns = t.rt.namespaced && !opts.allNamespaces ? s.namespace : undefined;
          const list = await listObjects(client, t.rt, ns, { labelSelector: opts.selector, chunkSize });
          for (const obj of list.items) found.push({ rt: t.rt, obj });
        } catch (err) {
          errors.push(err);
        }
        continue;
      }
      for (const name of t.names) {
        try {
          found.push({ rt: t.rt, obj: withTypeMeta(t.rt, await client.get(t.rt, nsOf(t.rt), name)) });
        } catch (err) {
          // `describe TYPE PREFIX`: every object whose name starts with the prefix.
          if (isNotFound(err) && args.length === 2 && !args[0]!.includes('/')) {
            const list = await listObjects(client, t.rt, nsOf(t.rt), { chunkSize });
            const matches = list.items.filter((o) => (o.metadata.name ?? '').startsWith(name));
            if (matches.length === 0) throw err;
            const now = Date.now();
            for (const obj of matches) s.io.out(`${await describeObject(client, t.rt, obj, opts.showEvents, now)}\n`);
            return;
          }
          errors.push(err);
        }
      }
    }
  }

  const now = Date.now();
  let first = true;
  for (const f of found) {
    try {
      const text = await describeObject(client, f.rt, f.obj, opts.showEvents, now);
      s.io.out(first ? text : `\n\n${text}`);
      first = false;
    } catch (err) {
      errors.push(err);
    }
  }
  if (found.length === 0 && errors.length === 0) {
    s.io.err(opts.allNamespaces ? 'No resources found\n' : `No resources found in ${s.namespace} namespace.\n`);
  }
  if (errors.length > 0) throw new AggregateCliError(errors);
}

export function describeCommand(cli: Cli): Command {
  return new Command('describe')
    .description('Show details of a specific resource or group of resources')
    .argument('[args...]', 'TYPE [NAME_PREFIX...] or TYPE/NAME...')
    .option('-l, --selector <selector>', 'label selector to filter on')
    .option('-A, --all-namespaces', 'describe across all namespaces')
    .option('--show-events [bool]', 'show the events about the object', (v: string) => v !== 'false', true)
    .option('-f, --filename <file>', 'file, directory or - naming the objects to describe (repeatable)', collect)
    .option('-R, --recursive', 'process directories given with -f recursively')
    .option('--chunk-size <n>', 'list page size', '500')
    .action(async function (this: Command, args: string[]) {
      await runDescribe(cli.session(this), args, this.opts<DescribeOptions>());
    });
}
