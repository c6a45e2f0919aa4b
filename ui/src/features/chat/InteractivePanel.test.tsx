import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { I18nProvider } from '@/i18n';
import type { InputField } from '@/lib/api';
import { InteractivePanel } from './InteractivePanel';

const width: InputField = {
  kind: 'numberInput',
  key: 'width',
  label: '宽',
  description: '单位毫米',
  default_value: null,
  value_type: 'number',
  required: true,
  options: [],
  max_length: null,
  min: 1,
  max: 5000,
};
const style: InputField = { ...width, kind: 'select', key: 'style', label: '风格', description: null, value_type: 'string', required: false, min: null, max: null, options: [{ key: 'a', value: '极简' }] };

describe('the workflow’s input form', () => {
  it('shows each problem at its field, and sends the values as JSON once they are valid', async () => {
    const onReply = vi.fn();
    render(
      <I18nProvider initial="en">
        <InteractivePanel interactive={{ kind: 'user_input', description: '填写尺寸', fields: [width, style] }} disabled={false} onReply={onReply} />
      </I18nProvider>,
    );
    const input = screen.getByLabelText('宽 *');
    await userEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Required.')).toBeTruthy();
    await userEvent.type(input, '0');
    await userEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(screen.getByText('At least 1.')).toBeTruthy();
    expect(onReply).not.toHaveBeenCalled();

    await userEvent.clear(input);
    await userEvent.type(input, '1200');
    await userEvent.selectOptions(screen.getByLabelText('风格'), '极简');
    await userEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(onReply).toHaveBeenCalledWith('{"width":1200,"style":"极简"}');
  });
});
