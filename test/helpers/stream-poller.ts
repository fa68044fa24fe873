/** The stream poller moved to lib/sim (the benchmarks drive the cloud control plane with it too). */
export * from '#lib/sim/stream-poller';
