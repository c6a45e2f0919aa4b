import { describe, expect, it } from 'vitest';
import { ApiError, type AgentSpec } from '@/lib/api';
import { NEW_AGENT, fieldOf, formFromSpec, problemsFrom, specFromForm, tidyNumber } from './editorForm';

const spec: AgentSpec = {
  name: 'Design helper',
  description: '回答层高问题',
  kind: 'chat',
  provider: 'fastgpt',
  base_url: 'http://127.0.0.1:3000',
  app_id: 'app-1',
  model: null,
  api_key_env: null,
  system_prompt: '',
  parameters: { temperature: 0.30000001192092896, max_tokens: 512, context_budget: 8000, detail: true, read_idle_secs: 60 },
  variables: { city: '上海' },
  enabled: true,
};

function refused(details: Record<string, unknown>, message = 'refused'): ApiError {
  return new ApiError(400, 'invalid_input', message, details);
}

describe('server problems next to the editor’s fields', () => {
  it('maps dotted paths to the fields that edit them', () => {
    expect(fieldOf('name')).toBe('name');
    expect(fieldOf('base_url')).toBe('base_url');
    expect(fieldOf('parameters.temperature')).toBe('temperature');
    expect(fieldOf('parameters.read_idle_secs')).toBe('read_idle_secs');
    expect(fieldOf('variables')).toBe('variables');
    expect(fieldOf('variables.city')).toBe('variables');
    expect(fieldOf('spec.model')).toBe('model');
    expect(fieldOf('key')).toBe('api_key');
    expect(fieldOf('parameters.unknown')).toBeNull();
    expect(fieldOf('something_else')).toBeNull();
  });

  it('puts every problem of `details.problems` at its field, joins several of one field, keeps the rest apart', () => {
    const error = refused({
      problems: [
        { field: 'name', message: 'give the agent a name' },
        { field: 'base_url', message: '"x" is not a URL' },
        { field: 'parameters.temperature', message: 'temperature is between 0 and 2' },
        { field: 'variables', message: 'a variable has an empty name' },
        { field: 'name', message: 'the name contains control characters' },
        { field: 'mystery', message: 'something new' },
      ],
    });
    expect(problemsFrom(error)).toEqual({
      fields: {
        name: 'give the agent a name; the name contains control characters',
        base_url: '"x" is not a URL',
        temperature: 'temperature is between 0 and 2',
        variables: 'a variable has an empty name',
      },
      other: ['mystery: something new'],
    });
  });

  it('takes a single `details.field` with the error’s message', () => {
    expect(problemsFrom(refused({ field: 'api_key_env' }, 'FOO is not set'))).toEqual({
      fields: { api_key_env: 'FOO is not set' },
      other: [],
    });
  });

  it('is not about fields for other errors', () => {
    expect(problemsFrom(new ApiError(409, 'conflict', 'changed meanwhile'))).toBeNull();
    expect(problemsFrom(refused({}))).toBeNull();
    expect(problemsFrom(new Error('boom'))).toBeNull();
  });
});

describe('the editor’s values and the spec', () => {
  it('fills the form from a spec (never a key) and reads the same spec back', () => {
    const form = formFromSpec(spec);
    expect(form.api_key).toBe('');
    expect(form.temperature).toBe('0.3');
    expect(JSON.parse(form.variables)).toEqual({ city: '上海' });
    const checked = specFromForm(form);
    expect(checked.problems).toBeNull();
    expect(checked.spec).toEqual({ ...spec, parameters: { ...spec.parameters, temperature: 0.3 } });
  });

  it('leaves empty optional numbers to the provider and empty texts out', () => {
    const checked = specFromForm({ ...NEW_AGENT, name: 'x', base_url: 'http://a' });
    expect(checked.spec?.parameters).toEqual({ temperature: null, max_tokens: null, context_budget: 8000, detail: true, read_idle_secs: 60 });
    expect(checked.spec?.app_id).toBeNull();
    expect(checked.spec?.variables).toEqual({});
  });

  it('refuses numbers that are not numbers and variables that are not a JSON object, before asking the server', () => {
    const checked = specFromForm({ ...NEW_AGENT, temperature: 'warm', max_tokens: '1.5', variables: '[1]' });
    expect(checked.problems).toEqual({
      temperature: 'agents.form.notNumber',
      max_tokens: 'agents.form.notInteger',
      variables: 'agents.form.variablesObject',
    });
    expect(specFromForm({ ...NEW_AGENT, variables: '{city:' }).problems).toEqual({ variables: 'agents.form.variablesJson' });
  });

  it('shows a 32-bit float as it was typed', () => {
    expect(tidyNumber(0.30000001192092896)).toBe(0.3);
    expect(tidyNumber(1.2000000476837158)).toBe(1.2);
    expect(tidyNumber(8000)).toBe(8000);
  });
});
