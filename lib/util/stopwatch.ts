/**
 * What metrics measure durations with, injected like a Clock so tests and
 * simulations can move it by hand.
 */

/** A monotonic clock in milliseconds: only differences between its readings mean anything. */
export type Stopwatch = () => number;

export const systemStopwatch: Stopwatch = () => performance.now();

/**
 * The latency buckets kube-apiserver gives apiserver_request_duration_seconds
 * and etcd_request_duration_seconds (chosen for its API call latency SLOs).
 */
export const KUBE_LATENCY_BUCKETS: readonly number[] = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
