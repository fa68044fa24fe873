/**
 * Server-side apply requests (`PATCH` with `application/apply-patch+yaml`):
 * the body is a partial object, the configuration its manager wants; the
 * server merges it into the live object (or creates the object, 201),
 * records ownership and refuses to take fields other managers own unless
 * `force=true`. The merge and ownership rules are in ssa/.
 */
import type { KObject } from '../api/object.js';
import { apiVersionOf, type ResourceType } from '../api/registry.js';
import type { Clock } from '../util/clock.js';
import { isPlainObject } from '../util/json.js';
import { checkObject, type FieldValidation, strictErrors, typeMismatch } from './decode.js';
import { StatusError, isAlreadyExists, isNotFound } from '../api/errors.js';
import { checkResourceVersion, type RestStorage } from './rest.js';
import { checkResultBounds } from './limits.js';
import { dropUnknownFields } from './schema/unknown.js';
import { applyObject } from './ssa/track.js';
import type { UserInfo } from '../api/request.js';

export interface ApplyRequest {
  rt: ResourceType;
  namespace: string | undefined;
  name: string;
  subresource?: string;
  body: unknown;
  /** Fields the body repeats, as decodePatch reports them. */
  duplicates: readonly string[];
  fieldManager: string | null;
  force: string | null;
  fieldValidation: FieldValidation;
  dryRun: boolean;
  /** Who applies, for admission. */
  user?: UserInfo;
}

/** Kubernetes' limit on fieldManager (ValidateFieldManager). */
const MAX_MANAGER_LENGTH = 128;

export function validateFieldManager(manager: string): void {
  if (manager.length > MAX_MANAGER_LENGTH) throw StatusError.badRequest(`fieldManager: Too long: may not be more than ${MAX_MANAGER_LENGTH} bytes`);
  if (!/^[\x20-\x7e]*$/.test(manager)) throw StatusError.badRequest(`fieldManager: Invalid value: "${manager}": must be a printable ascii string`);
}

/** Checks the applied configuration and returns it with the warnings its unknown fields raise. */
function checkConfig(req: ApplyRequest): { config: Record<string, unknown>; warnings: string[] } {
  const { rt, name } = req;
  const config = req.body;
  if (!isPlainObject(config)) throw StatusError.badRequest('error decoding YAML: the applied configuration must be an object');
  if (!config.apiVersion || !config.kind) {
    throw StatusError.badRequest(`invalid object type: ${String(config.apiVersion ?? '')}, Kind=${String(config.kind ?? '')}`);
  }
  if (config.apiVersion !== apiVersionOf(rt) || config.kind !== rt.kind) {
    throw StatusError.badRequest(
      `the API version in the data (${String(config.apiVersion)}) does not match the expected API version (${apiVersionOf(rt)}) or kind ${String(config.kind)} is not ${rt.kind}`,
    );
  }
  const meta = config.metadata;
  if (meta !== undefined && meta !== null && !isPlainObject(meta)) throw StatusError.badRequest('metadata must be an object');
  const m = (meta ?? {}) as Record<string, unknown>;
  if (m.name !== undefined && m.name !== name) {
    throw StatusError.badRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${name})`);
  }
  if (rt.namespaced && m.namespace !== undefined && req.namespace !== undefined && m.namespace !== req.namespace) {
    throw StatusError.badRequest(`the namespace of the object (${String(m.namespace)}) does not match the namespace on the request (${req.namespace})`);
  }
  if (m.managedFields !== undefined && m.managedFields !== null) throw StatusError.badRequest('metadata.managedFields must be nil');
  const mismatch = typeMismatch(rt, config, true);
  if (mismatch) throw StatusError.badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: ${mismatch}`);
  // Unknown fields leave the configuration before the merge, so no manager ever owns them; as for every other verb.
  const found = strictErrors(req.fieldValidation === 'Ignore' ? [] : req.duplicates, dropUnknownFields(rt, config));
  if (req.fieldValidation === 'Strict' && found.length > 0) {
    throw StatusError.badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: strict decoding error: ${found.join(', ')}`);
  }
  return { config, warnings: req.fieldValidation === 'Warn' ? found : [] };
}

/** Runs one server-side apply; `created` tells the caller to answer 201. */
export async function serverSideApply(rest: RestStorage, clock: Clock, req: ApplyRequest): Promise<{ object: KObject; created: boolean; warnings: string[] }> {
  const { rt, namespace, name, subresource } = req;
  const manager = req.fieldManager;
  if (!manager) throw StatusError.badRequest('fieldManager is required for apply requests');
  validateFieldManager(manager);
  if (req.force !== null && req.force !== 'true' && req.force !== 'false') throw StatusError.badRequest(`invalid force: ${req.force}`);
  const force = req.force === 'true';
  const { config, warnings } = checkConfig(req);
  // Admission's warnings join the unknown-field ones.
  const opts = {
    dryRun: req.dryRun,
    fieldManager: manager,
    managedFieldsSet: true,
    warnings,
    ...(req.user ? { user: req.user } : {}),
    ...(subresource ? { subresource } : {}),
  };
  const typed = (obj: KObject) => {
    checkResultBounds(obj, (why) => StatusError.badRequest(`the applied configuration ${why}`));
    return checkObject(rt, obj, 'Ignore').object;
  };

  const demanded = (config.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const object = await rest.guaranteedUpdate(
        rt,
        namespace,
        name,
        (current) => {
          // A resourceVersion in the configuration is a precondition, as for any write.
          checkResourceVersion(rt, name, demanded, current);
          return typed(applyObject(rt, current, config, manager, force, subresource, clock.now()));
        },
        opts,
      );
      return { object, created: false, warnings };
    } catch (err) {
      if (!isNotFound(err) || subresource) throw err;
    }
    const fresh = applyObject(rt, undefined, config, manager, force, undefined, clock.now());
    fresh.metadata.name = name;
    if (rt.namespaced && namespace !== undefined) fresh.metadata.namespace = namespace;
    try {
      const object = await rest.create(rt, namespace, typed(fresh), opts);
      return { object, created: true, warnings };
    } catch (err) {
      // Created by someone else in between: apply over theirs.
      if (!isAlreadyExists(err)) throw err;
    }
  }
  throw StatusError.modified({ group: rt.group, resource: rt.resource }, name);
}
