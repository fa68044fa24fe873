export { LabelSelectorRequirementSchema, LabelSelectorSchema, type LabelSelector, type LabelSelectorRequirement } from './shapes.generated.js';
