/**
 * apps/v1 StatefulSet, generated from k8s.io/api (shapes.generated.ts,
 * docs/schemas.md), with one change: a volumeClaimTemplates entry may leave
 * out apiVersion and kind, as every chart does (Go decodes an embedded
 * PersistentVolumeClaim without them; the kind's defaults fill them in).
 */
import { z } from 'zod';
import { PersistentVolumeClaimSchema } from '../../core/v1/persistentvolumeclaim.js';
import { opt } from '../../meta/v1/common.js';
import { StatefulSetSchema as GeneratedStatefulSetSchema, StatefulSetSpecSchema as GeneratedSpecSchema } from './shapes.generated.js';

const ClaimTemplateSchema = PersistentVolumeClaimSchema.extend({ apiVersion: z.string().optional(), kind: z.string().optional() });

export const StatefulSetSpecSchema = GeneratedSpecSchema.extend({ volumeClaimTemplates: opt(z.array(ClaimTemplateSchema)) });
export const StatefulSetSchema = GeneratedStatefulSetSchema.extend({ spec: StatefulSetSpecSchema.optional() });

export type StatefulSet = z.infer<typeof StatefulSetSchema>;
export type StatefulSetSpec = z.infer<typeof StatefulSetSpecSchema>;
export type { StatefulSetStatus } from './shapes.generated.js';
