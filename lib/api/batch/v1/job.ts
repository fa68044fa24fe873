export { JobSchema, JobSpecSchema, JobStatusSchema, type Job } from './shapes.generated.js';
