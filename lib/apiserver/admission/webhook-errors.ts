/**
 * The errors of webhook admission in kube's words
 * (admission/plugin/webhook/errors, util/webhook.ErrCallingWebhook).
 */
import { StatusError, type StatusDetails, type StatusReason } from '../../api/errors.js';

/** The Status a webhook denied with, its reason kept verbatim (kube passes it through: an empty one makes kubectl print `Error from server:`). */
export class WebhookDenial extends StatusError {
  constructor(
    code: number,
    private readonly statusReason: string,
    message: string,
    details?: StatusDetails,
  ) {
    // The reason classifies the error for kumo's predicates by its code, as apimachinery does for an unknown reason.
    super(code, code === 403 ? 'Forbidden' : code === 422 ? 'Invalid' : code >= 500 ? 'InternalError' : 'BadRequest', message, details);
  }

  override toStatus() {
    const status = super.toStatus();
    const { reason: _r, ...rest } = status;
    return (this.statusReason ? { ...rest, reason: this.statusReason as StatusReason } : rest) as ReturnType<StatusError['toStatus']>;
  }
}

/** The Status a webhook answered `allowed: false` with, as ToStatusErr makes it (code at least 400, message prefixed). */
export function denial(
  webhook: string,
  status: { code?: number | null; reason?: string | null; message?: string | null; details?: unknown } | null | undefined,
): WebhookDenial {
  const deniedBy = `admission webhook "${webhook}" denied the request`;
  const code = status?.code && status.code >= 400 ? status.code : 400;
  const message = status?.message ? `${deniedBy}: ${status.message}` : status?.reason ? `${deniedBy}: ${status.reason}` : `${deniedBy} without explanation`;
  return new WebhookDenial(code, status?.reason ?? '', message, (status?.details as StatusDetails | undefined) ?? undefined);
}

/** ErrCallingWebhook's text. */
export function callingError(webhook: string, reason: string): string {
  return `failed calling webhook "${webhook}": ${reason}`;
}

/** apierrors.NewInternalError: 500 with the message as its one cause. */
export function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/** NewDryRunUnsupportedErr: a dry run is refused when a matching webhook may have side effects. */
export function dryRunUnsupported(webhook: string): StatusError {
  return StatusError.badRequest(`admission webhook "${webhook}" does not support dry run`);
}
