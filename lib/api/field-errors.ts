/** Field-level validation errors, in the forms of k8s.io/apimachinery/pkg/util/validation/field. */

/** One field's validation failure; `type` is Kubernetes' field.ErrorType reason (FieldValueRequired, FieldValueInvalid, ...). */
export interface FieldError {
  type:
    | 'FieldValueRequired'
    | 'FieldValueNotFound'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueDuplicate'
    | 'FieldValueForbidden'
    | 'FieldValueTooLong'
    | 'FieldValueTooMany'
    | 'FieldValueTypeInvalid'
    | 'InternalError';
  field: string;
  message: string;
}

/** Kubernetes' field error message forms. */
export const fieldErrors = {
  required: (field: string, detail = ''): FieldError => ({
    type: 'FieldValueRequired',
    field,
    message: detail ? `Required value: ${detail}` : 'Required value',
  }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid',
    field,
    message: `Invalid value: ${formatValue(value)}: ${detail}`,
  }),
  notSupported: (field: string, value: unknown, allowed: readonly string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    message: `Unsupported value: ${formatValue(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
  }),
  notFound: (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, message: `Not found: ${formatValue(value)}` }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, message: `Duplicate value: ${formatValue(value)}` }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` }),
  /** field.Invalid with field.OmitValueType: the message names no value (kube omits objects and lists). */
  invalidOmitted: (field: string, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, message: `Invalid value: ${detail}` }),
  /** field.TooLong: the value itself is never echoed. */
  tooLong: (field: string, max: number): FieldError => ({
    type: 'FieldValueTooLong',
    field,
    message: max >= 0 ? `Too long: may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}` : 'Too long: value is too long',
  }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({
    type: 'FieldValueTooMany',
    field,
    message: `Too many: ${actual >= 0 ? `${actual}: ` : ''}${max >= 0 ? `must have at most ${max} items` : 'has too many items'}`,
  }),
  internal: (field: string, detail: string): FieldError => ({ type: 'InternalError', field, message: `Internal error: ${detail}` }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueTypeInvalid',
    field,
    message: `Invalid value: ${formatValue(value)}: ${detail}`,
  }),
};

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  return JSON.stringify(value);
}
