/**
 * Protobuf request bodies (`application/vnd.kubernetes.protobuf`), which
 * kubectl's typed clients send (e.g. `kubectl create deployment`).
 */
import type { ResourceType } from '../api/registry.js';
import { StatusError } from './errors.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

export function decodeProtobuf(_body: Uint8Array | undefined, _rt: ResourceType): unknown {
  throw StatusError.unsupportedMediaType(PROTOBUF_CONTENT_TYPE);
}
