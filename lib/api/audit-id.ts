/**
 * Request ids, as kube-apiserver's WithAuditInit filter keeps them: the
 * client's `Audit-ID` header when it sent a usable one, else a fresh UUID;
 * echoed in the `Audit-Id` response header of every response, and named in
 * the log line of any 500, so a user's report and the server's log meet.
 */
import { randomUUID } from 'node:crypto';

export const AUDIT_ID_HEADER = 'audit-id';

/** The id for a request with these (lower-cased) headers. A client's id is kept only if printable and short, as it lands in logs. */
export function auditIdOf(headers: Record<string, string | undefined>): string {
  const sent = headers[AUDIT_ID_HEADER];
  return sent && /^[\x21-\x7e]{1,128}$/.test(sent) ? sent : randomUUID();
}
