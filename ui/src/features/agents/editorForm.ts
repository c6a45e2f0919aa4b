import type { MessageKey } from '@/i18n';
import { ApiError, type AgentKind, type AgentSpec, type ProviderKind } from '@/lib/api';

/** The editor's fields, as typed (numbers and variables stay text until sent). */
export interface AgentForm {
  name: string;
  description: string;
  kind: AgentKind;
  provider: ProviderKind;
  base_url: string;
  app_id: string;
  model: string;
  api_key_env: string;
  system_prompt: string;
  temperature: string;
  max_tokens: string;
  context_budget: string;
  detail: boolean;
  read_idle_secs: string;
  /** A JSON object. */
  variables: string;
  enabled: boolean;
  /** A new key to store; empty leaves the stored key as it is. Never filled from the server. */
  api_key: string;
}

export type AgentField = keyof AgentForm;

const FIELDS: ReadonlySet<string> = new Set<AgentField>([
  'name',
  'description',
  'kind',
  'provider',
  'base_url',
  'app_id',
  'model',
  'api_key_env',
  'system_prompt',
  'temperature',
  'max_tokens',
  'context_budget',
  'detail',
  'read_idle_secs',
  'variables',
  'enabled',
  'api_key',
]);

export const NEW_AGENT: AgentForm = {
  name: '',
  description: '',
  kind: 'chat',
  provider: 'fastgpt',
  base_url: '',
  app_id: '',
  model: '',
  api_key_env: '',
  system_prompt: '',
  temperature: '',
  max_tokens: '',
  context_budget: '8000',
  detail: true,
  read_idle_secs: '60',
  variables: '',
  enabled: true,
  api_key: '',
};

/**
 * A number as it was typed: the server keeps temperature as a 32-bit float, which comes back as
 * 0.30000001192092896 for 0.3; seven significant digits give the typed value again.
 */
export function tidyNumber(value: number): number {
  return Number.isInteger(value) ? value : Number(value.toPrecision(7));
}

/** The editor filled from a stored spec (the key field stays empty: keys are write-only). */
export function formFromSpec(spec: AgentSpec): AgentForm {
  const p = spec.parameters;
  const variables = spec.variables ?? {};
  return {
    name: spec.name,
    description: spec.description ?? '',
    kind: spec.kind,
    provider: spec.provider,
    base_url: spec.base_url,
    app_id: spec.app_id ?? '',
    model: spec.model ?? '',
    api_key_env: spec.api_key_env ?? '',
    system_prompt: spec.system_prompt ?? '',
    temperature: p.temperature == null ? '' : String(tidyNumber(p.temperature)),
    max_tokens: p.max_tokens == null ? '' : String(p.max_tokens),
    context_budget: String(p.context_budget),
    detail: p.detail,
    read_idle_secs: String(p.read_idle_secs),
    variables: Object.keys(variables).length > 0 ? JSON.stringify(variables, null, 2) : '',
    enabled: spec.enabled,
    api_key: '',
  };
}

type Checked = { spec: AgentSpec; problems: null } | { spec: null; problems: Partial<Record<AgentField, MessageKey>> };

function optionalNumber(text: string): number | null | 'bad' {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : 'bad';
}

/**
 * The spec to send, or what keeps it from being sent (numbers that are not numbers, variables that
 * are not a JSON object). Everything else — names, URLs, ranges — the server checks and explains.
 */
export function specFromForm(form: AgentForm): Checked {
  const problems: Partial<Record<AgentField, MessageKey>> = {};
  const temperature = optionalNumber(form.temperature);
  const maxTokens = optionalNumber(form.max_tokens);
  const budget = optionalNumber(form.context_budget);
  const idle = optionalNumber(form.read_idle_secs);
  if (temperature === 'bad') problems.temperature = 'agents.form.notNumber';
  if (maxTokens === 'bad' || (typeof maxTokens === 'number' && !Number.isInteger(maxTokens))) problems.max_tokens = 'agents.form.notInteger';
  if (budget === 'bad' || (typeof budget === 'number' && !Number.isInteger(budget))) problems.context_budget = 'agents.form.notInteger';
  if (idle === 'bad' || (typeof idle === 'number' && !Number.isInteger(idle))) problems.read_idle_secs = 'agents.form.notInteger';
  let variables: Record<string, unknown> = {};
  if (form.variables.trim()) {
    try {
      const parsed: unknown = JSON.parse(form.variables);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problems.variables = 'agents.form.variablesObject';
      else variables = parsed as Record<string, unknown>;
    } catch {
      problems.variables = 'agents.form.variablesJson';
    }
  }
  if (Object.keys(problems).length > 0) return { spec: null, problems };
  const text = (value: string) => (value.trim() === '' ? null : value.trim());
  const spec: AgentSpec = {
    name: form.name,
    description: form.description,
    kind: form.kind,
    provider: form.provider,
    base_url: form.base_url,
    app_id: text(form.app_id),
    model: text(form.model),
    api_key_env: text(form.api_key_env),
    system_prompt: form.system_prompt,
    parameters: {
      temperature: temperature as number | null,
      max_tokens: maxTokens as number | null,
      context_budget: (budget as number | null) ?? 8000,
      detail: form.detail,
      read_idle_secs: (idle as number | null) ?? 60,
    },
    variables,
    enabled: form.enabled,
  };
  return { spec, problems: null };
}

/** The editor field a server problem's dotted path points at, if the editor has one. */
export function fieldOf(path: string): AgentField | null {
  const parts = path.split('.');
  const head = parts[0] ?? '';
  if (head === 'spec' && parts.length > 1) return fieldOf(parts.slice(1).join('.'));
  if (head === 'parameters') {
    const name = parts[1];
    return name && FIELDS.has(name) ? (name as AgentField) : null;
  }
  if (head === 'variables') return 'variables';
  if (head === 'key') return 'api_key';
  return FIELDS.has(head) ? (head as AgentField) : null;
}

export interface ServerProblems {
  /** Messages by editor field, shown next to the field. */
  fields: Partial<Record<AgentField, string>>;
  /** Problems with no field in the editor, shown above the form. */
  other: string[];
}

function isProblem(value: unknown): value is { field: string; message: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { field?: unknown }).field === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/**
 * Maps the server's refusal of a spec onto the editor: `details.problems` (`[{field, message}]`,
 * every problem at once) or a single `details.field`. Several problems of one field are joined.
 * Null when the error is not about the spec's fields.
 */
export function problemsFrom(error: unknown): ServerProblems | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const list = error.details['problems'];
  const problems = Array.isArray(list) ? list.filter(isProblem) : [];
  if (problems.length === 0 && error.field) problems.push({ field: error.field, message: error.message });
  if (problems.length === 0) return null;
  const out: ServerProblems = { fields: {}, other: [] };
  for (const problem of problems) {
    const field = fieldOf(problem.field);
    if (field) out.fields[field] = out.fields[field] ? `${out.fields[field]}; ${problem.message}` : problem.message;
    else out.other.push(`${problem.field}: ${problem.message}`);
  }
  return out;
}
