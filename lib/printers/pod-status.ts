/**
 * The STATUS, READY and RESTARTS columns of `kubectl get pods`, derived the
 * way kubectl's printPod does (pkg/printers/internalversion/printers.go).
 */
import type { ContainerStatus, Pod } from '../api/core/v1/pod.js';
import { humanDuration } from './duration.js';

export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
  restartCount: number;
}

function lastRestartAgo(statuses: ContainerStatus[], now: number): number | undefined {
  let latest: number | undefined;
  for (const s of statuses) {
    const t = s.lastState?.terminated?.finishedAt;
    if (s.restartCount > 0 && t) {
      const ms = Date.parse(t);
      if (latest === undefined || ms > latest) latest = ms;
    }
  }
  return latest === undefined ? undefined : now - latest;
}

export function podSummary(pod: Pod, now: number): PodSummary {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let restarts = 0;
  const total = (spec.containers ?? []).length;
  let readyCount = 0;
  let reason = status.reason || status.phase || 'Pending';

  const initSpecs = spec.initContainers ?? [];
  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (const [i, c] of initStatuses.entries()) {
    restarts += c.restartCount;
    const isSidecar = initSpecs.find((s) => s.name === c.name)?.restartPolicy === 'Always';
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && t.exitCode === 0) continue;
    if (isSidecar && c.started) continue;
    if (t) {
      reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    } else if (w?.reason && w.reason !== 'PodInitializing') {
      reason = `Init:${w.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }
  const initialized = (status.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = initStatuses.reduce((n, c) => n + c.restartCount, 0);
    let hasRunning = false;
    for (const c of [...(status.containerStatuses ?? [])].reverse()) {
      restarts += c.restartCount;
      const w = c.state?.waiting;
      const t = c.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyCount++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';

  const ago = lastRestartAgo([...initStatuses, ...(status.containerStatuses ?? [])], now);
  return {
    ready: `${readyCount}/${total}`,
    status: reason,
    restarts: ago !== undefined ? `${restarts} (${humanDuration(ago)} ago)` : String(restarts),
    restartCount: restarts,
  };
}
