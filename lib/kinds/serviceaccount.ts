/**
 * ServiceAccount (core/v1): an identity for processes in pods, after kube's
 * pkg/registry/core/serviceaccount. Its `token` subresource (TokenRequest)
 * is served by lib/apiserver/token-request.ts; the `default` account of
 * every namespace is kept by lib/controllers/serviceaccounts.ts.
 */
import type { KObject } from '../api/object.js';
import { ServiceAccountSchema, type ServiceAccount } from '../api/core/v1/serviceaccount.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline } from '../printers/describe/common.js';
import { LEVEL_0, tabbed } from '../printers/describe/writer.js';
import { type DescribeContext, defineKind } from './kind.js';
import type { Strategy } from './strategy.js';

// kube's serviceaccount strategy: no status, no generation; validation is ObjectMeta's (a DNS-1123 subdomain name).
const serviceAccountStrategy: Strategy = { noGeneration: true };

/** kubectl get serviceaccount (printServiceAccount): NAME, SECRETS, AGE. */
const serviceAccountPrinter: Printer = {
  columns: [NAME, col('Secrets', 'integer'), AGE],
  row(obj, now) {
    const sa = obj as ServiceAccount;
    return [sa.metadata.name ?? '', (sa.secrets ?? []).length, age(sa.metadata.creationTimestamp, now)];
  },
};

/** kubectl's ServiceAccountDescriber (1.35: the image pull secrets; legacy token secrets are gone). */
async function describeServiceAccount(obj: KObject, ctx: DescribeContext): Promise<string> {
  const sa = obj as ServiceAccount & KObject;
  const events = await ctx.events();
  const pull = (sa.imagePullSecrets ?? []).map((s) => s.name ?? '');
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${sa.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${sa.metadata.namespace ?? ''}\n`);
    printLabelsMultiline(w, 'Labels', sa.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', sa.metadata.annotations);
    if (pull.length === 0) w.write(LEVEL_0, 'Image pull secrets:\t<none>\n');
    pull.forEach((name, i) => w.write(LEVEL_0, `${i === 0 ? 'Image pull secrets:' : '                   '}\t${name}\n`));
    if (events) describeEvents(events, w, ctx.now);
  });
}

export const serviceAccountKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  resource: 'serviceaccounts',
  namespaced: true,
  schema: ServiceAccountSchema,
  shortNames: ['sa'],
  categories: [],
  subresources: ['token'],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'none' },
  strategy: serviceAccountStrategy,
  printer: serviceAccountPrinter,
  describer: describeServiceAccount,
});
