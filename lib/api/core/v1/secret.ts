import { z } from 'zod';
import { TypeMetaSchema } from '../../meta/v1/object-meta.js';

export const SecretSchema = TypeMetaSchema.extend({
  /** Base64-encoded values. */
  data: z.record(z.string(), z.string()).nullable().optional(),
  /** Write-only convenience: merged into `data` on write. */
  stringData: z.record(z.string(), z.string()).nullable().optional(),
  type: z.string().nullable().optional(),
  immutable: z.boolean().nullable().optional(),
});

export type Secret = z.infer<typeof SecretSchema>;
