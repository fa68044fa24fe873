/**
 * kubectl's columns and describers for the RBAC kinds
 * (pkg/printers/internalversion printRole/printRoleBinding…, and
 * k8s.io/kubectl/pkg/describe RoleDescriber, RoleBindingDescriber…).
 */
import type { KObject } from '../../api/object.js';
import { AGE, col, type Printer } from '../../printers/columns.js';
import { printAnnotationsMultiline, printLabelsMultiline } from '../../printers/describe/common.js';
import { LEVEL_0, LEVEL_1, tabbed } from '../../printers/describe/writer.js';
import { age } from '../../printers/duration.js';
import type { Describer } from '../kind.js';
import { breakdownRule, compactRules, goList, ruleString } from './rules.js';
import type { RbacBinding, RbacRole } from './validation.js';

/** Roles and ClusterRoles: NAME and CREATED AT (a UTC RFC 3339 time). */
export const rolePrinter: Printer = {
  columns: [col('Name', 'string', 0, 'name'), col('Created At', 'date')],
  row: (obj) => [obj.metadata.name ?? '', obj.metadata.creationTimestamp ?? ''],
};

/** rbac.SubjectsStrings: users, groups and `namespace/name` of ServiceAccounts. */
function subjectsStrings(b: RbacBinding): { users: string[]; groups: string[]; sas: string[] } {
  const out = { users: [] as string[], groups: [] as string[], sas: [] as string[] };
  for (const s of b.subjects ?? []) {
    if (s.kind === 'ServiceAccount') out.sas.push(`${s.namespace ?? ''}/${s.name ?? ''}`);
    else if (s.kind === 'User') out.users.push(s.name ?? '');
    else if (s.kind === 'Group') out.groups.push(s.name ?? '');
  }
  return out;
}

/** RoleBindings and ClusterRoleBindings: NAME, ROLE (Kind/name), AGE; wide: USERS, GROUPS, SERVICEACCOUNTS. */
export const bindingPrinter: Printer = {
  columns: [col('Name', 'string', 0, 'name'), col('Role'), AGE, col('Users', 'string', 1), col('Groups', 'string', 1), col('ServiceAccounts', 'string', 1)],
  row(obj, now) {
    const b = obj as RbacBinding;
    const { users, groups, sas } = subjectsStrings(b);
    return [
      b.metadata.name ?? '',
      `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`,
      age(b.metadata.creationTimestamp, now),
      users.join(', '),
      groups.join(', '),
      sas.join(', '),
    ];
  },
};

/** CombineResourceGroup: `resource.group/subresource` of a rule's first resource and group. */
function combineResourceGroup(resources: readonly string[], groups: readonly string[]): string {
  if (resources.length === 0) return '';
  const [res, sub] = resources[0]!.split(/\/(.*)/s, 2) as [string, string | undefined];
  let out = res;
  if (groups.length > 0 && groups[0] !== '') out += `.${groups[0]}`;
  if (sub !== undefined) out += `/${sub}`;
  return out;
}

/** RoleDescriber and ClusterRoleDescriber: the rules broken down, compacted and sorted as kubectl does. */
export const roleDescriber: Describer = async (obj: KObject) => {
  const role = obj as RbacRole;
  const rules = compactRules((role.rules ?? []).flatMap(breakdownRule));
  rules.sort((a, b) => (ruleString(a) < ruleString(b) ? -1 : ruleString(a) > ruleString(b) ? 1 : 0));
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${role.metadata.name ?? ''}\n`);
    printLabelsMultiline(w, 'Labels', role.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', role.metadata.annotations);
    w.write(LEVEL_0, 'PolicyRule:\n');
    w.write(LEVEL_1, 'Resources\tNon-Resource URLs\tResource Names\tVerbs\n');
    w.write(LEVEL_1, '---------\t-----------------\t--------------\t-----\n');
    for (const r of rules) {
      w.write(
        LEVEL_1,
        `${combineResourceGroup(r.resources ?? [], r.apiGroups ?? [])}\t${goList(r.nonResourceURLs)}\t${goList(r.resourceNames)}\t${goList(r.verbs)}\n`,
      );
    }
  });
};

/** RoleBindingDescriber and ClusterRoleBindingDescriber. */
export const bindingDescriber: Describer = async (obj: KObject) => {
  const b = obj as RbacBinding;
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${b.metadata.name ?? ''}\n`);
    printLabelsMultiline(w, 'Labels', b.metadata.labels);
    printAnnotationsMultiline(w, 'Annotations', b.metadata.annotations);
    w.write(LEVEL_0, 'Role:\n');
    w.write(LEVEL_1, `Kind:\t${b.roleRef?.kind ?? ''}\n`);
    w.write(LEVEL_1, `Name:\t${b.roleRef?.name ?? ''}\n`);
    w.write(LEVEL_0, 'Subjects:\n');
    w.write(LEVEL_1, 'Kind\tName\tNamespace\n');
    w.write(LEVEL_1, '----\t----\t---------\n');
    for (const s of b.subjects ?? []) w.write(LEVEL_1, `${s.kind ?? ''}\t${s.name ?? ''}\t${s.namespace ?? ''}\n`);
  });
};
