import { useState, type SubmitEvent } from 'react';
import { describeError } from '@/components/describeError';
import { ApiError, useApi, type TaskView } from '@/lib/api';
import { getPlatform } from '@/lib/platform';
import { useI18n } from '@/i18n';
import { startSelfTest } from './api';

/** Starts a `diagnostics.selftest` task: a worker counts through its steps, reporting progress. */
export function SelfTestForm({ onStarted }: { onStarted: (task: TaskView) => void }) {
  const { t } = useI18n();
  const api = useApi();
  const [steps, setSteps] = useState('10');
  const [stepMs, setStepMs] = useState('200');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    // Asked from the click, as browsers require; a refusal only means no system notification.
    void getPlatform().requestNotifications().catch(() => false);
    try {
      const task = await startSelfTest(api, {
        steps: Math.round(Number(steps) || 10),
        step_ms: Math.round(Number(stepMs) || 200),
      });
      onStarted(task);
      setDone(t('tasks.selfTest.started', { id: task.id }));
    } catch (caught) {
      setError(caught instanceof ApiError && caught.status === 400 ? caught.message : describeError(caught, t));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel selftest" onSubmit={(event) => void submit(event)} aria-labelledby="selftest-legend">
      <h2 id="selftest-legend" className="panel-title">
        {t('tasks.selfTest.legend')}
      </h2>
      <p className="muted small">{t('tasks.selfTest.description')}</p>
      <div className="form-row">
        <div className="field field-compact">
          <label htmlFor="selftest-steps">{t('tasks.selfTest.steps')}</label>
          <input
            id="selftest-steps"
            type="number"
            min={1}
            max={1000}
            inputMode="numeric"
            value={steps}
            onChange={(event) => setSteps(event.target.value)}
          />
        </div>
        <div className="field field-compact">
          <label htmlFor="selftest-step-ms">{t('tasks.selfTest.stepMs')}</label>
          <input
            id="selftest-step-ms"
            type="number"
            min={0}
            max={60000}
            step={50}
            inputMode="numeric"
            value={stepMs}
            onChange={(event) => setStepMs(event.target.value)}
          />
        </div>
        <button type="submit" className="button primary" disabled={busy}>
          {t('tasks.runSelfTest')}
        </button>
      </div>
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      {done ? (
        <p className="muted small" role="status">
          {done}
        </p>
      ) : null}
    </form>
  );
}
