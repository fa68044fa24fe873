/**
 * `kumo get`: tables as kubectl prints them (server-side Table columns),
 * `-o wide|yaml|json|name`, label and field selectors, all namespaces,
 * `TYPE/NAME` and the `all` category. Objects that cannot be read are
 * reported after everything that could be printed, and the exit code is 1.
 */
import { Command } from 'commander';
import type { KObject } from '../../api/object.js';
import type { ResourceType } from '../../api/registry.js';
import { isNotFound } from '../../api/errors.js';
import { toJson, toYaml } from '../../printers/serialize.js';
import { type Table, TABLE_ACCEPT, TablePrinter } from '../../printers/table-printer.js';
import { GET_TABWRITER, TabWriter } from '../../printers/tabwriter.js';
import { AggregateCliError, CliError } from '../errors.js';
import { errorFrom, resourcePath } from '../../client/client.js';
import { asTable, getTable, listObjects, listTable, withTypeMeta } from '../fetch.js';
import { mapManifests, readManifests } from '../manifests.js';
import { collect } from '../options.js';
import { kindString, resolveTargets } from '../resources.js';
import type { Cli, Session } from '../session.js';

export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json' | 'name';

export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === '') return 'table';
  if (value === 'wide' || value === 'yaml' || value === 'json' || value === 'name') return value;
  throw new CliError(`unable to match a printer suitable for the output format "${value}", allowed formats are: json,name,wide,yaml`);
}

interface GetOptions {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  allNamespaces?: boolean;
  showLabels?: boolean;
  labelColumns?: string[];
  headers: boolean;
  filename?: string[];
  recursive?: boolean;
  chunkSize: string;
  ignoreNotFound?: boolean;
  watch?: boolean;
  watchOnly?: boolean;
}

/** One read: a list (no name) or one named object, in a namespace or across all (`undefined`). */
interface Request {
  rt: ResourceType;
  namespace: string | undefined;
  name?: string;
}

/** What one request produced, in request order. */
interface Info {
  rt: ResourceType;
  table?: Table;
  objects?: KObject[];
}

async function requestsFor(s: Session, args: string[], opts: GetOptions): Promise<{ requests: Request[]; singleItem: boolean; errors: unknown[] }> {
  const errors: unknown[] = [];
  if (opts.filename?.length) {
    if (args.length > 0) throw new CliError('resource(s) were provided along with filenames: use one or the other');
    const mapped = mapManifests(await readManifests(opts.filename, { recursive: opts.recursive ?? false, stdin: () => s.io.readStdin() }));
    const requests: Request[] = [];
    for (const m of mapped) {
      if (!m.rt) {
        errors.push(m.error);
        continue;
      }
      const name = m.object.metadata.name;
      if (!name) throw new CliError(`resource name may not be empty`);
      requests.push({ rt: m.rt, namespace: m.rt.namespaced ? (m.object.metadata.namespace ?? s.namespace) : undefined, name });
    }
    return { requests, singleItem: mapped.length === 1, errors };
  }
  if (args.length === 0) {
    throw new CliError('Required resource not specified.');
  }
  const targets = await resolveTargets(s.client(), args);
  if (opts.allNamespaces && targets.some((t) => t.names.length > 0)) {
    throw new CliError('a resource cannot be retrieved by name across all namespaces');
  }
  const ns = (rt: ResourceType) => (!rt.namespaced || opts.allNamespaces ? undefined : s.namespace);
  const requests: Request[] = [];
  for (const t of targets) {
    if (t.names.length === 0) requests.push({ rt: t.rt, namespace: ns(t.rt) });
    else for (const name of t.names) requests.push({ rt: t.rt, namespace: t.rt.namespaced ? s.namespace : undefined, name });
  }
  const singleItem = requests.length === 1 && requests[0]!.name !== undefined;
  if ((opts.selector || opts.fieldSelector) && requests.some((r) => r.name !== undefined)) {
    throw new CliError('name cannot be provided when a selector is specified');
  }
  return { requests, singleItem, errors };
}

/**
 * `get -w`: the current objects, then one line per change until the server
 * ends the watch (kubectl exits 0 then too). A named object's watch starts
 * with a synthetic ADDED event that is not printed again.
 */
async function runWatch(s: Session, args: string[], opts: GetOptions, format: OutputFormat): Promise<void> {
  if (opts.filename?.length) throw new CliError('watch is only supported on individual resources and resource collections');
  const targets = await resolveTargets(s.client(), args);
  if (targets.length !== 1 || targets[0]!.names.length > 1) {
    throw new CliError('watch is only supported on individual resources and resource collections, but 2 resources were found');
  }
  const { rt, names } = targets[0]!;
  const name = names[0];
  if (opts.allNamespaces && name) throw new CliError('a resource cannot be retrieved by name across all namespaces');
  const namespace = !rt.namespaced || (opts.allNamespaces && !name) ? undefined : s.namespace;
  const client = s.client();
  const human = format === 'table' || format === 'wide';
  const tw = new TabWriter({ ...GET_TABWRITER, rememberWidths: true });
  const printer = new TablePrinter({
    wide: format === 'wide',
    noHeaders: !opts.headers,
    withNamespace: Boolean(opts.allNamespaces) && rt.namespaced,
    showLabels: opts.showLabels ?? false,
    labelColumns: (opts.labelColumns ?? []).flatMap((l) => l.split(',')).filter((l) => l !== ''),
  });
  let yamlDocs = 0;
  const emit = (value: unknown) => {
    if (human) {
      printer.print(asTable(rt, value), tw);
      s.io.out(tw.take());
      return;
    }
    const obj = hideManagedFields(withTypeMeta(rt, value as KObject));
    if (format === 'name') s.io.out(`${kindString(rt)}/${obj.metadata.name ?? ''}\n`);
    else if (format === 'json') s.io.out(toJson(obj));
    else s.io.out(`${yamlDocs++ > 0 ? '---\n' : ''}${toYaml(obj)}`);
  };

  const query = { labelSelector: opts.selector, fieldSelector: opts.fieldSelector, chunkSize: Number(opts.chunkSize) };
  let resourceVersion: string;
  if (name) {
    const current = human ? await getTable(client, rt, namespace, name) : withTypeMeta(rt, await client.get(rt, namespace, name));
    if (!opts.watchOnly) emit(current);
    resourceVersion = '0';
  } else if (human) {
    const table = await listTable(client, rt, namespace, query);
    if (!opts.watchOnly) emit(table);
    resourceVersion = table.metadata.resourceVersion ?? '0';
  } else {
    const list = await listObjects(client, rt, namespace, query);
    if (!opts.watchOnly) for (const item of list.items) emit(item);
    resourceVersion = list.resourceVersion || '0';
  }

  const q = new URLSearchParams({ watch: 'true', resourceVersion });
  if (opts.selector) q.set('labelSelector', opts.selector);
  const fields = [...(name ? [`metadata.name=${name}`] : []), ...(opts.fieldSelector ? [opts.fieldSelector] : [])];
  if (fields.length > 0) q.set('fieldSelector', fields.join(','));
  const res = await client.transport.stream({ method: 'GET', path: resourcePath(rt, namespace), query: q, accept: human ? TABLE_ACCEPT : 'application/json' });
  if (!res.events) throw errorFrom(res.status, res.body);
  let skipSynthetic = Boolean(name);
  for await (const raw of res.events) {
    const ev = raw as { type?: string; object?: unknown };
    if (ev.type === 'BOOKMARK') continue;
    if (ev.type === 'ERROR') throw errorFrom(500, ev.object);
    if (skipSynthetic) {
      skipSynthetic = false;
      continue;
    }
    emit(ev.object);
  }
}

async function runGet(s: Session, args: string[], opts: GetOptions): Promise<void> {
  const format = parseOutputFormat(opts.output);
  if (opts.watch || opts.watchOnly) return runWatch(s, args, opts, format);
  const chunkSize = Number(opts.chunkSize);
  if (!Number.isInteger(chunkSize) || chunkSize < 0) throw new CliError(`invalid --chunk-size: ${opts.chunkSize}`);
  const { requests, singleItem, errors } = await requestsFor(s, args, opts);
  const client = s.client();
  const query = { labelSelector: opts.selector, fieldSelector: opts.fieldSelector, chunkSize };
  const human = format === 'table' || format === 'wide';
  const infos: Info[] = [];
  for (const r of requests) {
    try {
      if (human) {
        const table = r.name === undefined ? await listTable(client, r.rt, r.namespace, query) : await getTable(client, r.rt, r.namespace, r.name);
        infos.push({ rt: r.rt, table });
      } else if (r.name === undefined) {
        infos.push({ rt: r.rt, objects: (await listObjects(client, r.rt, r.namespace, query)).items });
      } else {
        infos.push({ rt: r.rt, objects: [withTypeMeta(r.rt, await client.get(r.rt, r.namespace, r.name))] });
      }
    } catch (err) {
      if (opts.ignoreNotFound && isNotFound(err)) continue;
      errors.push(err);
    }
  }

  if (human) printTables(s, infos, format === 'wide', opts, errors.length > 0);
  // A single named object that could not be read prints nothing but its error, as kubectl does.
  else if (!(singleItem && errors.length > 0)) printObjects(s, infos, format, singleItem);
  if (errors.length > 0) throw new AggregateCliError(errors);
}

function printTables(s: Session, infos: Info[], wide: boolean, opts: GetOptions, hadErrors: boolean): void {
  const withKind = infos.length > 1 && infos.some((i) => i.rt !== infos[0]!.rt);
  const groups: string[] = [];
  let last: ResourceType | undefined;
  let printer: TablePrinter | undefined;
  let tw: TabWriter | undefined;
  const finish = () => {
    const text = tw?.toString() ?? '';
    if (text !== '') groups.push(text);
  };
  for (const info of infos) {
    if (info.rt !== last || !printer || !tw) {
      finish();
      tw = new TabWriter(GET_TABWRITER);
      printer = new TablePrinter({
        wide,
        noHeaders: !opts.headers,
        withNamespace: Boolean(opts.allNamespaces) && info.rt.namespaced,
        showLabels: opts.showLabels ?? false,
        labelColumns: (opts.labelColumns ?? []).flatMap((l) => l.split(',')).filter((l) => l !== ''),
        ...(withKind ? { kindPrefix: kindString(info.rt) } : {}),
      });
      last = info.rt;
    }
    printer.print(info.table!, tw);
  }
  finish();
  // Groups are separated by one blank line, as kubectl's separatorWriter does.
  if (groups.length > 0) s.io.out(groups.join('\n'));
  else if (!hadErrors && !opts.ignoreNotFound) {
    const allNamespaced = !opts.allNamespaces && infos.every((i) => i.rt.namespaced);
    s.io.err(allNamespaced ? `No resources found in ${s.namespace} namespace.\n` : 'No resources found\n');
  }
}

/** kubectl leaves metadata.managedFields out of -o json/yaml (its --show-managed-fields defaults to false). */
function hideManagedFields(o: KObject): KObject {
  if (!o.metadata?.managedFields) return o;
  const { managedFields: _mf, ...metadata } = o.metadata;
  return { ...o, metadata };
}

function printObjects(s: Session, infos: Info[], format: OutputFormat, singleItem: boolean): void {
  const items = infos.flatMap((i) => (i.objects ?? []).map((o) => ({ rt: i.rt, o })));
  if (format === 'name') {
    for (const { rt, o } of items) s.io.out(`${kindString(rt)}/${o.metadata.name ?? ''}\n`);
    return;
  }
  const value =
    singleItem && items.length === 1
      ? hideManagedFields(items[0]!.o)
      : { apiVersion: 'v1', items: items.map((i) => hideManagedFields(i.o)), kind: 'List', metadata: { resourceVersion: '' } };
  s.io.out(format === 'json' ? toJson(value) : toYaml(value));
}

export function getCommand(cli: Cli): Command {
  return new Command('get')
    .description('Display one or many resources')
    .argument('[args...]', 'TYPE[,TYPE...] [NAME...] or TYPE/NAME...')
    .option('-o, --output <format>', 'output format: wide, yaml, json or name')
    .option('-l, --selector <selector>', 'label selector to filter on, e.g. -l app=web')
    .option('--field-selector <selector>', 'field selector to filter on, e.g. --field-selector status.phase=Running')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('--show-labels', 'show all labels as the last column')
    .option('-L, --label-columns <keys>', 'label keys to show as columns (repeatable, comma-separated)', collect)
    .option('--no-headers', 'do not print headers')
    .option('-f, --filename <file>', 'file, directory or - naming the objects to get (repeatable)', collect)
    .option('-R, --recursive', 'process directories given with -f recursively')
    .option('--chunk-size <n>', 'list page size (0 disables paging)', '500')
    .option('--ignore-not-found', 'treat not-found objects as a success')
    .option('-w, --watch', 'after listing, watch for changes until the server ends the watch')
    .option('--watch-only', 'watch for changes without listing first')
    .action(async function (this: Command, args: string[]) {
      await runGet(cli.session(this), args, this.opts<GetOptions>());
    });
}
