/** Manifests the scenarios create. */
import type { KObject } from '#lib/api/object';

export function deployment(name: string, replicas: number, opts: { image?: string; command?: string[]; requests?: boolean; namespace?: string } = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, ...(opts.namespace ? { namespace: opts.namespace } : {}) },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'main',
              image: opts.image ?? 'registry.k8s.io/pause:3.10',
              imagePullPolicy: 'IfNotPresent',
              ...(opts.command ? { command: opts.command } : {}),
              ...(opts.requests === false ? {} : { resources: { requests: { cpu: '10m', memory: '10Mi' } } }),
            },
          ],
        },
      },
    },
  };
}
