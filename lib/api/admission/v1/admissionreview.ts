/** admission.k8s.io/v1 AdmissionReview: what the API server sends a webhook and reads back, generated from k8s.io/api (shapes.generated.ts). */
export { AdmissionReviewSchema, type AdmissionRequest, type AdmissionResponse, type AdmissionReview } from './shapes.generated.js';
