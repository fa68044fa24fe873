export { CronJobSchema, CronJobSpecSchema, CronJobStatusSchema, JobTemplateSpecSchema, type CronJob, type JobTemplateSpec } from './shapes.generated.js';
