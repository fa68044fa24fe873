import { fromLabelSelector, matches, SelectorParseError } from '../../api/labels.js';
import type { LabelSelector } from '../../api/meta/v1/label-selector.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';

/** Validates a workload's selector against its pod template's labels (apps/v1 and batch/v1 rules). */
export function validateSelectorAndTemplate(
  selector: LabelSelector | null | undefined,
  templateLabels: Record<string, string> | null | undefined,
  selectorPath: string,
  labelsPath: string,
  kind = 'deployment',
): FieldError[] {
  if (!selector) return [fieldErrors.required(selectorPath)];
  const empty = Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  if (empty) return [fieldErrors.invalid(selectorPath, selector, `empty selector is invalid for ${kind}`)];
  let reqs;
  try {
    reqs = fromLabelSelector(selector);
  } catch (err) {
    if (err instanceof SelectorParseError) return [fieldErrors.invalid(`${selectorPath}.matchExpressions`, selector.matchExpressions, err.message)];
    throw err;
  }
  if (!matches(reqs, templateLabels)) {
    return [fieldErrors.invalid(labelsPath, templateLabels ?? {}, '`selector` does not match template `labels`')];
  }
  return [];
}

/** ValidateLabelSelector's operator and values rules (a selector that cannot be parsed would match nothing). */
export function validateLabelSelector(selector: LabelSelector | null | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (selector?.matchExpressions ?? []).forEach((e, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const values = e.values ?? [];
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) errs.push(fieldErrors.required(`${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) errs.push(fieldErrors.forbidden(`${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else errs.push(fieldErrors.invalid(`${at}.operator`, e.operator, 'not a valid selector operator'));
  });
  if (errs.length === 0) {
    try {
      fromLabelSelector(selector);
    } catch (err) {
      if (!(err instanceof SelectorParseError)) throw err;
      errs.push(fieldErrors.invalid(path, selector, err.message));
    }
  }
  return errs;
}
