/**
 * What a list's `resourceVersion`, `resourceVersionMatch` and `continue` ask
 * for, checked and worded as kube-apiserver does (apimachinery's
 * ValidateListOptions, then the storage layer's ValidateListOptions and
 * NewTooLargeResourceVersionError):
 *
 * | resourceVersion | match        | reads                                         |
 * |-----------------|--------------|-----------------------------------------------|
 * | unset           | -            | the newest data (a consistent read)           |
 * | "0"             | unset / NotOlderThan | any data: kumo serves the newest      |
 * | R               | NotOlderThan | the newest data, if the store has reached R   |
 * | R               | unset        | as NotOlderThan; with `limit`, as Exact (kube's legacy rule) |
 * | R               | Exact        | the data at exactly R (lib/store/history.ts)  |
 *
 * A continue token carries what its first page read at, so a continued list
 * names no resourceVersion.
 */
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { StatusError } from '../api/errors.js';

export type ListConsistency = { kind: 'latest' } | { kind: 'notOlderThan'; revision: number; resourceVersion: string } | { kind: 'exact'; revision: number };

export interface ListVersionParams {
  resourceVersion?: string | undefined;
  resourceVersionMatch?: string | undefined;
  continue?: string | undefined;
  limit?: number | undefined;
  /** Only watches may ask for initial events; present here to be refused. */
  sendInitialEvents?: string | undefined;
}

const MAX_UINT64 = 2n ** 64n - 1n;

/** The revision a resourceVersion names, as Go's strconv.ParseUint reads it, or the message it fails with. */
function parseRevision(rv: string): number | string {
  if (!/^[0-9]+$/.test(rv)) return `strconv.ParseUint: parsing ${JSON.stringify(rv)}: invalid syntax`;
  if (BigInt(rv) > MAX_UINT64) return `strconv.ParseUint: parsing ${JSON.stringify(rv)}: value out of range`;
  // Beyond 2^53 the number is approximate, but then far above any revision a store has reached.
  return Number(rv);
}

/** Checks a list request's version parameters; throws the StatusError kube-apiserver answers with. */
export function listConsistency(p: ListVersionParams): ListConsistency {
  const rv = p.resourceVersion ?? '';
  const match = p.resourceVersionMatch ?? '';
  const errs: FieldError[] = [];
  if (match !== '') {
    if (rv === '') errs.push(fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided'));
    if (p.continue) errs.push(fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'));
    if (match !== 'Exact' && match !== 'NotOlderThan') errs.push(fieldErrors.notSupported('resourceVersionMatch', match, ['Exact', 'NotOlderThan', '']));
    if (match === 'Exact' && rv === '0')
      errs.push(fieldErrors.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'));
  }
  if (p.sendInitialEvents !== undefined) errs.push(fieldErrors.forbidden('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  if (errs.length > 0) throw StatusError.invalid('ListOptions', 'meta.k8s.io', '', errs);

  if (p.continue) {
    if (rv !== '' && rv !== '0') throw StatusError.badRequest('specifying resource version is not allowed when using continue');
    return { kind: 'latest' };
  }
  if (rv === '') return { kind: 'latest' };
  const revision = parseRevision(rv);
  if (typeof revision === 'string') {
    const e = fieldErrors.invalid('resourceVersion', rv, revision);
    throw StatusError.badRequest(`invalid resource version: ${e.field}: ${e.message}`);
  }
  if (match === 'Exact' || (match === '' && (p.limit ?? 0) > 0 && revision > 0)) return { kind: 'exact', revision };
  return revision === 0 ? { kind: 'latest' } : { kind: 'notOlderThan', revision, resourceVersion: rv };
}

/**
 * 504 for a revision the store has not reached (storage's
 * NewTooLargeResourceVersionError): clients retry after a second.
 */
export function tooLargeResourceVersion(requested: string, current: number): StatusError {
  return new StatusError(504, 'Timeout', `Timeout: Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

/** 410 for a list at a revision compacted away (etcd3's interpretListError). */
export function expiredList(): StatusError {
  return StatusError.gone('The resourceVersion for the provided list is too old.');
}

/**
 * 410 for a continue token whose revision was compacted away: as etcd3's
 * handleCompactedErrorForPaging, the Status carries a token that continues
 * after the same key at the newest data instead.
 */
export function expiredContinue(latest: string): StatusError {
  const err = StatusError.gone(
    'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
  );
  err.listMeta = { continue: latest };
  return err;
}
