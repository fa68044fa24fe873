/**
 * Validation of ResourceList values shared by ResourceQuota and LimitRange
 * (kube's pkg/apis/core/validation ValidateResourceQuantityValue).
 */
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { formatAmount, parseAmount, type Amount } from '../../api/quota/amounts.js';

const QUANTITY_PATTERN = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** helper.IsIntegerResourceName's standard names: object counts. */
const INTEGER_RESOURCES = new Set([
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);

/**
 * A quantity that parses, is not negative and, for a count, is whole; the
 * amount when it is valid. Errors go to `errs` at `field`.
 */
export function validateQuantity(field: string, resource: string, value: string | number, errs: FieldError[]): Amount | undefined {
  const a = parseAmount(value);
  if (!a) {
    errs.push(fieldErrors.invalid(field, value, QUANTITY_PATTERN));
    return undefined;
  }
  if (a.milli < 0n) {
    errs.push(fieldErrors.invalid(field, formatAmount(a), 'must be greater than or equal to 0'));
    return undefined;
  }
  if (INTEGER_RESOURCES.has(resource) && a.milli % 1000n !== 0n) {
    errs.push(fieldErrors.invalid(field, formatAmount(a), 'must be an integer'));
    return undefined;
  }
  return a;
}
