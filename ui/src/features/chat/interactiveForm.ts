import type { InputField, JsonValue } from '@/lib/api';

/** What the user entered in a workflow's input form, by field key. */
export type FormValues = Record<string, string | string[] | boolean>;

export type FieldProblem =
  | { kind: 'required' }
  | { kind: 'number' }
  | { kind: 'min'; min: number }
  | { kind: 'max'; max: number }
  | { kind: 'maxLength'; max: number }
  | { kind: 'option' };

/** How a field is edited, from FastGPT's form item types (unknown types are text inputs). */
export type Control = 'text' | 'textarea' | 'number' | 'select' | 'multiselect' | 'switch';

export function controlOf(field: InputField): Control {
  switch (field.kind) {
    case 'textarea':
    case 'JSONEditor':
      return 'textarea';
    case 'numberInput':
      return 'number';
    case 'select':
      return field.options.length > 0 ? 'select' : 'text';
    case 'multipleSelect':
      return field.options.length > 0 ? 'multiselect' : 'text';
    case 'switch':
      return 'switch';
    default:
      return field.value_type === 'number' ? 'number' : 'text';
  }
}

function asText(value: JsonValue | null): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The form as it first shows: each field's default value. */
export function initialValues(fields: readonly InputField[]): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const control = controlOf(field);
    const value = field.default_value;
    if (control === 'switch') values[field.key] = value === true || value === 'true';
    else if (control === 'multiselect') values[field.key] = Array.isArray(value) ? value.map((v) => asText(v)) : [];
    else values[field.key] = asText(value);
  }
  return values;
}

/** Every field's problem, by key; an empty object when the form can be sent. */
export function validateForm(fields: readonly InputField[], values: FormValues): Record<string, FieldProblem> {
  const problems: Record<string, FieldProblem> = {};
  for (const field of fields) {
    const control = controlOf(field);
    const value = values[field.key];
    if (control === 'switch') continue;
    if (control === 'multiselect') {
      const chosen = Array.isArray(value) ? value : [];
      if (field.required && chosen.length === 0) problems[field.key] = { kind: 'required' };
      else if (chosen.some((v) => !field.options.some((o) => o.value === v))) problems[field.key] = { kind: 'option' };
      continue;
    }
    const text = typeof value === 'string' ? value.trim() : '';
    if (text === '') {
      if (field.required) problems[field.key] = { kind: 'required' };
      continue;
    }
    if (control === 'number') {
      const number = Number(text);
      if (!Number.isFinite(number)) problems[field.key] = { kind: 'number' };
      else if (field.min !== null && number < field.min) problems[field.key] = { kind: 'min', min: field.min };
      else if (field.max !== null && number > field.max) problems[field.key] = { kind: 'max', max: field.max };
      continue;
    }
    if (control === 'select' && !field.options.some((o) => o.value === text)) {
      problems[field.key] = { kind: 'option' };
      continue;
    }
    // UTF-16 units, as FastGPT's own form (an input's maxLength) counts them.
    if (field.max_length !== null && text.length > field.max_length) {
      problems[field.key] = { kind: 'maxLength', max: field.max_length };
    }
  }
  return problems;
}

/**
 * The message that answers the form, as FastGPT expects it: `JSON.stringify({key: value, …})`,
 * numbers as numbers, switches as booleans, empty optional fields left out.
 */
export function formReply(fields: readonly InputField[], values: FormValues): string {
  const reply: Record<string, unknown> = {};
  for (const field of fields) {
    const control = controlOf(field);
    const value = values[field.key];
    if (control === 'switch') {
      reply[field.key] = value === true;
    } else if (control === 'multiselect') {
      reply[field.key] = Array.isArray(value) ? value : [];
    } else {
      const text = typeof value === 'string' ? value.trim() : '';
      if (text === '') continue;
      reply[field.key] = control === 'number' ? Number(text) : text;
    }
  }
  return JSON.stringify(reply);
}
