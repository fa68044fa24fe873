/**
 * Reads shared by the verbs: paged lists (`limit=500` and `continue`, as
 * kubectl's --chunk-size), as Tables or as objects, with kubectl's wording
 * for list errors (EnhanceListError), and the events about one object.
 */
import type { Event } from '../api/core/v1/event.js';
import type { KObject } from '../api/object.js';
import { apiVersionOf, type ResourceType } from '../api/registry.js';
import { EVENTS } from '../kinds/resources.js';
import { StatusError, isBadRequest, isNotFound } from '../api/errors.js';
import { type KubeClient, resourcePath } from '../client/client.js';
import { defaultPrinter } from '../printers/columns.js';
import { printerOf } from '../kinds/printer.js';
import { builtinKindOf } from '../kinds/resources.js';
import { isTable, type Table, TABLE_ACCEPT } from '../printers/table-printer.js';

export const DEFAULT_CHUNK_SIZE = 500;

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  chunkSize?: number;
}

/** `group/version, Resource=plural`, as schema.GroupVersionResource prints. */
function gvrString(rt: ResourceType): string {
  return `${rt.group}/${rt.version}, Resource=${rt.resource}`;
}

function enhanceListError(err: unknown, rt: ResourceType, q: ListQuery): unknown {
  if (!(isBadRequest(err) || isNotFound(err))) return err;
  const subj = gvrString(rt);
  const message =
    !q.labelSelector && !q.fieldSelector
      ? `Unable to list "${subj}": ${err.message}`
      : `Unable to find "${subj}" that match label selector "${q.labelSelector ?? ''}", field selector "${q.fieldSelector ?? ''}": ${err.message}`;
  return new StatusError(err.code, err.reason, message, err.details);
}

async function pages(
  client: KubeClient,
  rt: ResourceType,
  namespace: string | undefined,
  q: ListQuery,
  accept: string,
  onPage: (body: unknown) => string | undefined,
): Promise<void> {
  let cont: string | undefined;
  do {
    const query = new URLSearchParams();
    if (q.labelSelector) query.set('labelSelector', q.labelSelector);
    if (q.fieldSelector) query.set('fieldSelector', q.fieldSelector);
    const limit = q.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (limit > 0) query.set('limit', String(limit));
    if (cont) query.set('continue', cont);
    let body: unknown;
    try {
      body = await client.call({ method: 'GET', path: resourcePath(rt, namespace), query, accept });
    } catch (err) {
      throw enhanceListError(err, rt, q);
    }
    cont = onPage(body) || undefined;
  } while (cont);
}

/**
 * The server's answer as a Table. A server that ignores the Table Accept
 * header sends plain objects; their rows are computed here with the same
 * column definitions kumo's server uses.
 */
export function asTable(rt: ResourceType, body: unknown): Table {
  if (isTable(body)) return body;
  const value = body as { items?: KObject[]; metadata?: { resourceVersion?: string; continue?: string } } & Partial<KObject>;
  const items = Array.isArray(value.items) ? value.items : value.metadata ? [value as KObject] : undefined;
  if (!items) throw new StatusError(500, 'InternalError', `the server answered neither a Table nor ${rt.resource}`);
  // A kind the CLI does not know gets NAME and AGE, as kubectl prints one without a printer.
  const kind = builtinKindOf(rt);
  const printer = kind ? printerOf(kind) : defaultPrinter;
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...(value.metadata?.continue && Array.isArray(value.items) ? { continue: value.metadata.continue } : {}) },
    columnDefinitions: printer.columns,
    rows: items.map((item) => ({ cells: printer.row(item, now), object: { metadata: item.metadata } })),
  };
}

/** Every page of a list as one Table (columns from the first page). */
export async function listTable(client: KubeClient, rt: ResourceType, namespace: string | undefined, q: ListQuery = {}): Promise<Table> {
  let table: Table | undefined;
  await pages(client, rt, namespace, q, TABLE_ACCEPT, (body) => {
    const page = asTable(rt, body);
    if (!table) table = { ...page, rows: [...(page.rows ?? [])] };
    else table.rows!.push(...(page.rows ?? []));
    return page.metadata?.continue;
  });
  return table!;
}

/** Every page of a list; items carry apiVersion and kind (list items may omit them). */
export async function listObjects<T extends { apiVersion: string; kind: string } = KObject>(
  client: KubeClient,
  rt: ResourceType,
  namespace: string | undefined,
  q: ListQuery = {},
): Promise<{ resourceVersion: string; items: T[] }> {
  const items: T[] = [];
  let resourceVersion = '';
  await pages(client, rt, namespace, q, 'application/json', (body) => {
    const list = body as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
    for (const item of list.items ?? []) items.push(withTypeMeta(rt, item));
    resourceVersion = list.metadata?.resourceVersion ?? resourceVersion;
    return list.metadata?.continue;
  });
  return { resourceVersion, items };
}

export function withTypeMeta<T extends { apiVersion: string; kind: string }>(rt: ResourceType, obj: T): T {
  return { ...obj, apiVersion: obj.apiVersion || apiVersionOf(rt), kind: obj.kind || rt.kind };
}

/** GET one object as a Table. */
export async function getTable(client: KubeClient, rt: ResourceType, namespace: string | undefined, name: string): Promise<Table> {
  return asTable(rt, await client.call<unknown>({ method: 'GET', path: resourcePath(rt, namespace, name), accept: TABLE_ACCEPT }));
}

/**
 * searchEvents: the events whose involvedObject is `obj`. The kind is left
 * out for pods, as kubectl leaves it out (mirror pods' events name another
 * kind); cluster-scoped objects search every namespace.
 */
export async function eventsFor(client: KubeClient, obj: KObject, opts: { withKind?: boolean; uid?: string } = {}): Promise<Event[]> {
  const ns = obj.metadata.namespace ?? '';
  const fields: Record<string, string> = {
    'involvedObject.name': obj.metadata.name ?? '',
    'involvedObject.namespace': ns,
  };
  if (opts.withKind ?? true) fields['involvedObject.kind'] = obj.kind;
  const uid = opts.uid ?? obj.metadata.uid;
  if (uid) fields['involvedObject.uid'] = uid;
  const fieldSelector = Object.keys(fields)
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join(',');
  const list = await listObjects<Event>(client, EVENTS, ns || undefined, { fieldSelector });
  return list.items;
}
