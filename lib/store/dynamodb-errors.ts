/**
 * Maps DynamoDB failures onto the store's error classes. Throttling of any
 * kind becomes StoreBusyError (the API answers 429 and the client retries);
 * an item over DynamoDB's 400 KB limit becomes TooLargeError (413).
 */
import type { CancellationReason } from '@aws-sdk/client-dynamodb';
import { StoreBusyError, TooLargeError } from './types.js';

const BUSY_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
  'LimitExceededException',
]);

/** Cancellation reason codes that mean "refused for load". */
const BUSY_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'TransactionConflict', 'RequestLimitExceeded']);

const SIZE_MESSAGE = /item size|size has exceeded|too large/i;

function nameOf(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

/** A rejection DynamoDB gave before doing anything: the request certainly did not apply. */
export function isDefiniteRejection(err: unknown): boolean {
  const name = nameOf(err);
  return BUSY_ERRORS.has(name) || name === 'ValidationException' || name === 'ResourceNotFoundException';
}

/** The store error for a DynamoDB error, or the error itself when the store has no better name for it. */
export function mapError(err: unknown): unknown {
  const name = nameOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (BUSY_ERRORS.has(name)) return new StoreBusyError(`DynamoDB refused the request for load (${name})`, { cause: err });
  if (name === 'ValidationException' && SIZE_MESSAGE.test(message)) return new TooLargeError(`object too large for DynamoDB: ${message}`, { cause: err });
  return err;
}

/** The store error for a transaction cancelled for reasons other than its conditions. */
export function mapCancellation(err: Error, reasons: CancellationReason[]): unknown {
  const codes = reasons.map((r) => r.Code ?? 'None');
  if (codes.some((c) => BUSY_REASONS.has(c))) return new StoreBusyError(`DynamoDB cancelled the write for load (${codes.join(', ')})`, { cause: err });
  if (reasons.some((r) => r.Code === 'ValidationError' && SIZE_MESSAGE.test(r.Message ?? ''))) {
    return new TooLargeError(`object too large for DynamoDB: ${reasons.map((r) => r.Message).join('; ')}`, { cause: err });
  }
  return err;
}
