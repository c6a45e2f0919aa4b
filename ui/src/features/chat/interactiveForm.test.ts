import { describe, expect, it } from 'vitest';
import type { InputField } from '@/lib/api';
import { controlOf, formReply, initialValues, validateForm } from './interactiveForm';

function field(overrides: Partial<InputField> & Pick<InputField, 'key' | 'kind'>): InputField {
  return {
    label: overrides.key,
    description: null,
    default_value: null,
    value_type: null,
    required: false,
    options: [],
    max_length: null,
    min: null,
    max: null,
    ...overrides,
  };
}

const width = field({ key: 'width', kind: 'numberInput', label: '宽', value_type: 'number', required: true, min: 1, max: 5000 });
const note = field({ key: 'note', kind: 'textarea', max_length: 5 });
const style = field({ key: 'style', kind: 'select', required: true, options: [{ key: 'a', value: '极简' }, { key: 'b', value: '复古' }] });
const tags = field({ key: 'tags', kind: 'multipleSelect', options: [{ key: 'x', value: '红' }, { key: 'y', value: '蓝' }] });
const urgent = field({ key: 'urgent', kind: 'switch', default_value: true });
const city = field({ key: 'city', kind: 'input', default_value: '上海' });

describe('the workflow’s input form', () => {
  it('picks a control for each FastGPT form item type', () => {
    expect([width, note, style, tags, urgent, city].map(controlOf)).toEqual([
      'number',
      'textarea',
      'select',
      'multiselect',
      'switch',
      'text',
    ]);
    expect(controlOf(field({ key: 'n', kind: 'somethingNew', value_type: 'number' }))).toBe('number');
    expect(controlOf(field({ key: 's', kind: 'select' }))).toBe('text');
  });

  it('starts from the default values', () => {
    expect(initialValues([width, urgent, city, tags])).toEqual({ width: '', urgent: true, city: '上海', tags: [] });
  });

  it('asks for required fields', () => {
    const problems = validateForm([width, style, note], { width: '  ', style: '', note: '' });
    expect(problems).toEqual({ width: { kind: 'required' }, style: { kind: 'required' } });
  });

  it('checks numbers against min and max', () => {
    expect(validateForm([width], { width: 'abc' })).toEqual({ width: { kind: 'number' } });
    expect(validateForm([width], { width: '0' })).toEqual({ width: { kind: 'min', min: 1 } });
    expect(validateForm([width], { width: '9000' })).toEqual({ width: { kind: 'max', max: 5000 } });
    expect(validateForm([width], { width: '1200' })).toEqual({});
  });

  it('checks lengths and options', () => {
    expect(validateForm([note], { note: '123456' })).toEqual({ note: { kind: 'maxLength', max: 5 } });
    expect(validateForm([style], { style: '未知' })).toEqual({ style: { kind: 'option' } });
    expect(validateForm([tags], { tags: ['红', '绿'] })).toEqual({ tags: { kind: 'option' } });
    expect(validateForm([tags, urgent], { tags: ['红'], urgent: false })).toEqual({});
  });

  it('answers as JSON of the values: numbers as numbers, switches as booleans, empty optional fields left out', () => {
    const text = formReply([width, note, style, tags, urgent, city], {
      width: ' 1200 ',
      note: '',
      style: '极简',
      tags: ['蓝'],
      urgent: false,
      city: '北京',
    });
    expect(JSON.parse(text)).toEqual({ width: 1200, style: '极简', tags: ['蓝'], urgent: false, city: '北京' });
  });
});
