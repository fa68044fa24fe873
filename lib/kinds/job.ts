/** Job (batch/v1): namespaced. */
import { JobSchema, type Job } from '../api/batch/v1/job.js';
import { jobPrinter } from '../printers/columns.js';
import { describeJob } from '../printers/describe/workloads.js';
import { defineKind } from './kind.js';
import { jobStrategy } from './strategies/jobs.js';

export const jobKind = defineKind({
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  resource: 'jobs',
  namespaced: true,
  schema: JobSchema,
  shortNames: [],
  categories: ['all'],
  subresources: ['status'],
  garbageCollection: { dependent: true, owner: true },
  authorization: { nodes: 'none' },
  strategy: jobStrategy,
  printer: jobPrinter,
  describer: async (obj, ctx) => describeJob(obj as Job, await ctx.events(), ctx.now),
});
