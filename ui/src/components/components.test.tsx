import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { I18nProvider } from '@/i18n';
import { ErrorBoundary } from './ErrorBoundary';
import { ProgressBar } from './ProgressBar';

let broken = false;
function Flaky() {
  if (broken) throw new Error('the task list could not be drawn');
  return <p>all good</p>;
}

describe('ErrorBoundary', () => {
  it('shows what failed and recovers with Retry', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    broken = true;
    render(
      <I18nProvider initial="en">
        <ErrorBoundary area="Tasks">
          <Flaky />
        </ErrorBoundary>
      </I18nProvider>,
    );
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Something went wrong in Tasks');
    expect(alert.textContent).toContain('the task list could not be drawn');
    broken = false;
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(screen.getByText('all good')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('speaks the current language', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    broken = true;
    render(
      <I18nProvider initial="zh-CN">
        <ErrorBoundary area="任务">
          <Flaky />
        </ErrorBoundary>
      </I18nProvider>,
    );
    expect(screen.getByRole('alert').textContent).toContain('任务出错了');
    expect(screen.getByRole('button', { name: '重试' })).toBeTruthy();
  });
});

describe('ProgressBar', () => {
  it('exposes its value to assistive technology and clamps it', () => {
    function Harness() {
      const [value, setValue] = useState(42);
      return (
        <>
          <ProgressBar value={value} label="Progress of task #1" />
          <button type="button" onClick={() => setValue(140)}>
            more
          </button>
        </>
      );
    }
    render(<Harness />);
    const bar = screen.getByRole('progressbar', { name: 'Progress of task #1' });
    expect(bar.getAttribute('aria-valuenow')).toBe('42');
    expect(bar.getAttribute('aria-valuemin')).toBe('0');
    expect(bar.getAttribute('aria-valuemax')).toBe('100');
    screen.getByRole('button').click();
    return vi.waitFor(() => expect(bar.getAttribute('aria-valuenow')).toBe('100'));
  });
});
