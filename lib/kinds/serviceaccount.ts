/**
 * ServiceAccount (core/v1): an identity for processes in pods, after kube's
 * pkg/registry/core/serviceaccount. Its `token` subresource (TokenRequest)
 * is served by lib/apiserver/token-request.ts; the `default` account of
 * every namespace is kept by lib/controllers/serviceaccounts.ts.
 */
import type { KObject } from '../api/object.js';
import type { Secret } from '../api/core/v1/secret.js';
import { ServiceAccountSchema, type ServiceAccount } from '../api/core/v1/serviceaccount.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { describeEvents, printAnnotationsMultiline, printLabelsMultiline } from '../printers/describe/common.js';
import { LEVEL_0, tabbed } from '../printers/describe/writer.js';
import { tolerate } from './describe.js';
import { type DescribeContext, defineKind } from './kind.js';
import { secretKind } from './secret.js';
import type { Strategy } from './strategy.js';

/** The Secret type and annotations of a legacy token Secret (corev1.SecretTypeServiceAccountToken, ServiceAccountNameKey, ServiceAccountUIDKey). */
const TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

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

/** kubectl's ServiceAccountDescriber: the pull, mountable and token secrets (a secret named but missing is "(not found)"). */
async function describeServiceAccount(obj: KObject, ctx: DescribeContext): Promise<string> {
  const sa = obj as ServiceAccount & KObject;
  const ns = sa.metadata.namespace ?? '';
  // As kubectl: secrets it may not list are neither shown as tokens nor called missing.
  const secrets = await tolerate<(Secret & KObject)[] | undefined>(ctx.list<Secret & KObject>(secretKind, ns, {}), undefined);
  const tokens = (secrets ?? []).filter(
    (s) => s.type === TOKEN_SECRET_TYPE && s.metadata.annotations?.[SA_NAME_ANNOTATION] === sa.metadata.name && s.metadata.annotations?.[SA_UID_ANNOTATION] === sa.metadata.uid,
  );
  const existing = new Set((secrets ?? []).map((s) => s.metadata.name));
  const missing = (name: string) => secrets !== undefined && !existing.has(name);
  const events = await ctx.events();
  // Sorted by header, as kubectl's sets.StringKeySet(types).List().
  const sections: [string, string[]][] = [
    ['Image pull secrets:', (sa.imagePullSecrets ?? []).map((s) => s.name ?? '')],
    ['Mountable secrets: ', (sa.secrets ?? []).map((s) => s.name ?? '')],
    ['Tokens:            ', tokens.map((s) => s.metadata.name ?? '')],
  ];
  const empty = '                   ';
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${sa.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${ns}\n`);
    printLabelsMultiline(w, 'Labels', sa.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', sa.metadata.annotations);
    for (const [header, names] of sections) {
      if (names.length === 0) {
        w.write(LEVEL_0, `${header}\t<none>\n`);
        continue;
      }
      let prefix = header;
      for (const name of names) {
        w.write(LEVEL_0, `${prefix}\t${name}${missing(name) ? ' (not found)' : ''}\n`);
        prefix = empty;
      }
    }
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
  authorization: { nodes: 'none', viewers: 'read' },
  strategy: serviceAccountStrategy,
  printer: serviceAccountPrinter,
  describer: describeServiceAccount,
});
