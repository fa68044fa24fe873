/**
 * ControllerRevision (apps/v1): namespaced. The history of a StatefulSet or
 * DaemonSet: one object per distinct pod template, named `<owner>-<hash>`,
 * numbered by `revision`; `kubectl rollout history|undo` read them. After
 * kube's pkg/registry/apps/controllerrevision: `data` is required and never
 * changes; `revision` may (a rollback renumbers the revision it returns to).
 */
import { ControllerRevisionSchema, type ControllerRevision } from '../api/apps/v1/controllerrevision.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { controllerRef } from '../api/meta/v1/owner-references.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { deepEqual } from '../util/json.js';
import { defineKind } from './kind.js';

/** kubectl's printControllerRevision: the controller as `kind.group/name` (formatResourceName with its kind). */
const controllerRevisionPrinter: Printer = {
  columns: [NAME, col('Controller'), col('Revision', 'integer'), AGE],
  row(obj, now) {
    const cr = obj as ControllerRevision;
    const ref = controllerRef(obj);
    let controller = '<none>';
    if (ref) {
      const group = ref.apiVersion.includes('/') ? ref.apiVersion.slice(0, ref.apiVersion.indexOf('/')) : '';
      controller = `${(group ? `${ref.kind}.${group}` : ref.kind).toLowerCase()}/${ref.name}`;
    }
    return [cr.metadata.name ?? '', controller, cr.revision ?? 0, age(cr.metadata.creationTimestamp, now)];
  },
};

function validate(cr: ControllerRevision): FieldError[] {
  const errors: FieldError[] = [];
  if (cr.data === undefined || cr.data === null) errors.push(fieldErrors.required('data', 'data is mandatory'));
  if ((cr.revision ?? 0) < 0) errors.push(fieldErrors.invalid('revision', cr.revision, 'must be greater than or equal to 0'));
  return errors;
}

export const controllerRevisionKind = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  resource: 'controllerrevisions',
  namespaced: true,
  schema: ControllerRevisionSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none' },
  strategy: {
    noGeneration: true,
    validate: (obj) => validate(obj as ControllerRevision),
    validateUpdate(obj, old) {
      const cr = obj as ControllerRevision;
      return deepEqual(cr.data, (old as ControllerRevision).data) ? [] : [fieldErrors.invalid('data', cr.data, 'field is immutable')];
    },
  },
  printer: controllerRevisionPrinter,
  describer: 'generic',
});
