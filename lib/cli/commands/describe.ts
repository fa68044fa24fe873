/**
 * `kumo describe`: kubectl's describers for pods, deployments, replica sets,
 * jobs, nodes, namespaces, services, config maps and secrets, and its
 * generic describer for the rest, each with the object's Events. `describe
 * TYPE PREFIX` describes every object whose name starts with PREFIX when no
 * object has exactly that name, as kubectl does.
 */
import { Command } from 'commander';
import type { Deployment } from '../../api/apps/v1/deployment.js';
import type { ReplicaSet } from '../../api/apps/v1/replicaset.js';
import type { Job } from '../../api/batch/v1/job.js';
import type { Lease } from '../../api/coordination/v1/lease.js';
import type { ConfigMap } from '../../api/core/v1/configmap.js';
import type { Event } from '../../api/core/v1/event.js';
import type { Namespace } from '../../api/core/v1/namespace.js';
import type { Node } from '../../api/core/v1/node.js';
import type { Pod } from '../../api/core/v1/pod.js';
import type { Secret } from '../../api/core/v1/secret.js';
import type { Endpoints } from '../../api/core/v1/endpoints.js';
import type { PersistentVolume } from '../../api/core/v1/persistentvolume.js';
import type { PersistentVolumeClaim } from '../../api/core/v1/persistentvolumeclaim.js';
import type { Service } from '../../api/core/v1/service.js';
import type { EndpointSlice } from '../../api/discovery/v1/endpointslice.js';
import type { KObject } from '../../api/object.js';
import { type ResourceType } from '../../api/registry.js';
import { ENDPOINT_SLICES, LEASES, PODS, REPLICASETS } from '../../api/resources.js';
import { isForbidden, isNotFound } from '../../api/errors.js';
import type { KubeClient } from '../../client/client.js';
import { describeNamespace, describeNode } from '../../printers/describe/cluster.js';
import { describeConfigMap, describeSecret, describeService } from '../../printers/describe/core.js';
import { describeGeneric } from '../../printers/describe/generic.js';
import { describeEndpoints, describeEndpointSlice } from '../../printers/describe/network.js';
import { describePersistentVolume, describePersistentVolumeClaim } from '../../printers/describe/storage.js';
import { describePod } from '../../printers/describe/pod.js';
import { describeDeployment, describeJob, describeReplicaSet } from '../../printers/describe/workloads.js';
import { labelSelectorText } from '../../printers/selector.js';
import { AggregateCliError, CliError } from '../errors.js';
import { eventsFor, listObjects, withTypeMeta } from '../fetch.js';
import { mapManifests, readManifests } from '../manifests.js';
import { collect } from '../options.js';
import { parseTypeOrNameArgs } from '../resources.js';
import type { Cli, Session } from '../session.js';

interface DescribeOptions {
  selector?: string;
  allNamespaces?: boolean;
  showEvents: boolean;
  filename?: string[];
  recursive?: boolean;
  chunkSize: string;
}

async function tolerate<T>(p: Promise<T>, fallback: T): Promise<T> {
  try {
    return await p;
  } catch {
    return fallback;
  }
}

/** Renders one object with its kind's describer, fetching what that describer shows besides the object. */
export async function describeObject(client: KubeClient, rt: ResourceType, obj: KObject, showEvents: boolean, now: number): Promise<string> {
  const events = (withKind = true): Promise<Event[] | undefined> =>
    showEvents ? tolerate(eventsFor(client, obj, { withKind }), [] as Event[]) : Promise.resolve(undefined);
  const ns = obj.metadata.namespace;
  switch (rt.resource) {
    case 'pods':
      return describePod(obj as Pod, await events(false), now);
    case 'deployments': {
      const d = obj as Deployment;
      const selector = labelSelectorText(d.spec?.selector);
      const rsList = await tolerate(listObjects<ReplicaSet>(client, REPLICASETS, ns, { labelSelector: selector }), { resourceVersion: '', items: [] });
      return describeDeployment(d, rsList.items, await events(), now);
    }
    case 'replicasets': {
      const rs = obj as ReplicaSet;
      let pods: Pod[] | Error;
      try {
        pods = (await listObjects<Pod>(client, PODS, ns, { labelSelector: labelSelectorText(rs.spec?.selector) })).items;
      } catch (err) {
        pods = err instanceof Error ? err : new Error(String(err));
      }
      return describeReplicaSet(rs, pods, await events(), now);
    }
    case 'jobs':
      return describeJob(obj as Job, await events(), now);
    case 'nodes': {
      const node = obj as Node;
      const name = node.metadata.name ?? '';
      let pods: Pod[] | 'forbidden';
      try {
        const fieldSelector = `spec.nodeName=${name},status.phase!=Failed,status.phase!=Succeeded`;
        pods = (await listObjects<Pod>(client, PODS, undefined, { fieldSelector })).items;
      } catch (err) {
        if (!isForbidden(err)) throw err;
        pods = 'forbidden';
      }
      let lease: Lease | Error;
      try {
        lease = (await client.get(LEASES, 'kube-node-lease', name)) as unknown as Lease;
      } catch (err) {
        lease = err instanceof Error ? err : new Error(String(err));
      }
      // Node events name the node by UID (controllers) or by name (kubelets); kubectl merges both searches.
      let evs: Event[] | undefined;
      if (showEvents) {
        const byUid = await tolerate(eventsFor(client, obj), [] as Event[]);
        const byName = await tolerate(eventsFor(client, obj, { uid: name }), [] as Event[]);
        evs = [...byUid, ...byName];
      }
      return describeNode(node, pods, lease, evs, now);
    }
    case 'namespaces':
      return describeNamespace(obj as Namespace);
    case 'services': {
      const slices = await tolerate(
        listObjects<EndpointSlice>(client, ENDPOINT_SLICES, ns, { labelSelector: `kubernetes.io/service-name=${obj.metadata.name}` }),
        { resourceVersion: '', items: [] },
      );
      return describeService(obj as Service, slices.items, await events(), now);
    }
    case 'endpoints':
      return describeEndpoints(obj as Endpoints, await events(), now);
    case 'endpointslices':
      return describeEndpointSlice(obj as EndpointSlice, await events(), now);
    case 'persistentvolumes':
      return describePersistentVolume(obj as PersistentVolume, await events(), now);
    case 'persistentvolumeclaims': {
      // kubectl's getPodsForPVC: the namespace's pods that mount the claim.
      const pods = await tolerate(listObjects<Pod>(client, PODS, ns, {}), { resourceVersion: '', items: [] });
      const users = pods.items.filter((p) => (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === obj.metadata.name));
      return describePersistentVolumeClaim(obj as PersistentVolumeClaim, users, await events(), now);
    }
    case 'configmaps':
      return describeConfigMap(obj as ConfigMap, await events(), now);
    case 'secrets':
      return describeSecret(obj as Secret);
    default:
      return describeGeneric(obj, await events(), now);
  }
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
    const targets = parseTypeOrNameArgs(args);
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
