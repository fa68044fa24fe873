/**
 * PodTemplate (v1): namespaced. A stored pod template, after kube's
 * pkg/registry/core/podtemplate: the template's pod spec defaulted and
 * validated as any pod template's (any restart policy, no ephemeral
 * containers). kubectl has no describer of its own for it.
 */
import { PodTemplateSchema, type PodTemplate } from '../api/core/v1/podtemplate.js';
import type { FieldError } from '../api/field-errors.js';
import { podTemplatePrinter } from '../printers/columns.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';
import { defaultTemplate, validateTemplate } from './strategies/apps.js';

const podTemplateStrategy: Strategy = {
  defaults(obj) {
    defaultTemplate((obj as PodTemplate).template);
  },
  validate(obj) {
    const errs: FieldError[] = [];
    validateTemplate((obj as PodTemplate).template ?? {}, 'template', errs, ['Always', 'OnFailure', 'Never'], null);
    return errs;
  },
};

export const podTemplateKind = defineKind({
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  resource: 'podtemplates',
  namespaced: true,
  schema: PodTemplateSchema,
  shortNames: [],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none' },
  strategy: podTemplateStrategy,
  printer: podTemplatePrinter,
  describer: 'generic',
});
