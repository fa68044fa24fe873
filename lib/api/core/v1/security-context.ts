/**
 * Pod and container security contexts, typed: Pod Security Admission
 * (lib/apiserver/podsecurity) decides on these fields, so a value of the
 * wrong type (`privileged: "true"`) must be refused when the body is decoded,
 * as Kubernetes' decoder refuses it, never read as truthy.
 */
import { z } from 'zod';
import { Int64, opt } from '../../meta/v1/common.js';

export const SeccompProfileSchema = z.looseObject({ type: z.string(), localhostProfile: opt(z.string()) });
export const AppArmorProfileSchema = z.looseObject({ type: z.string(), localhostProfile: opt(z.string()) });
export const SELinuxOptionsSchema = z.looseObject({ user: opt(z.string()), role: opt(z.string()), type: opt(z.string()), level: opt(z.string()) });
export const WindowsSecurityContextOptionsSchema = z.looseObject({
  gmsaCredentialSpecName: opt(z.string()),
  gmsaCredentialSpec: opt(z.string()),
  runAsUserName: opt(z.string()),
  hostProcess: opt(z.boolean()),
});

export const SecurityContextSchema = z.looseObject({
  capabilities: opt(z.looseObject({ add: opt(z.array(z.string())), drop: opt(z.array(z.string())) })),
  privileged: opt(z.boolean()),
  seLinuxOptions: opt(SELinuxOptionsSchema),
  windowsOptions: opt(WindowsSecurityContextOptionsSchema),
  runAsUser: opt(Int64),
  runAsGroup: opt(Int64),
  runAsNonRoot: opt(z.boolean()),
  readOnlyRootFilesystem: opt(z.boolean()),
  allowPrivilegeEscalation: opt(z.boolean()),
  procMount: opt(z.string()),
  seccompProfile: opt(SeccompProfileSchema),
  appArmorProfile: opt(AppArmorProfileSchema),
});

export const PodSecurityContextSchema = z.looseObject({
  seLinuxOptions: opt(SELinuxOptionsSchema),
  windowsOptions: opt(WindowsSecurityContextOptionsSchema),
  runAsUser: opt(Int64),
  runAsGroup: opt(Int64),
  runAsNonRoot: opt(z.boolean()),
  supplementalGroups: opt(z.array(Int64)),
  supplementalGroupsPolicy: opt(z.string()),
  fsGroup: opt(Int64),
  sysctls: opt(z.array(z.looseObject({ name: z.string(), value: z.string() }))),
  fsGroupChangePolicy: opt(z.string()),
  seccompProfile: opt(SeccompProfileSchema),
  appArmorProfile: opt(AppArmorProfileSchema),
  seLinuxChangePolicy: opt(z.string()),
});

export type SecurityContext = z.infer<typeof SecurityContextSchema>;
export type PodSecurityContext = z.infer<typeof PodSecurityContextSchema>;
