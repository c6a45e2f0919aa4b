import { useState } from 'react';
import { describeError } from '@/components/describeError';
import { ProgressBar } from '@/components/ProgressBar';
import { useI18n } from '@/i18n';
import { ApiError, useApi, type TaskView } from '@/lib/api';
import { cancelTask } from './api';
import { kindLabel, stateLabel } from './labels';
import { isEnded } from './taskList';

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function tone(task: TaskView): 'running' | 'done' | 'failed' | 'idle' {
  switch (task.state) {
    case 'succeeded':
      return 'done';
    case 'failed':
    case 'cancelled':
      return 'failed';
    case 'queued':
      return 'idle';
    default:
      return 'running';
  }
}

interface Props {
  task: TaskView;
  canCancel: boolean;
  onChanged: (task: TaskView) => void;
}

export function TaskItem({ task, canCancel, onChanged }: Props) {
  const { t, formatDateTime, formatNumber } = useI18n();
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ended = isEnded(task.state);
  const headingId = `task-${task.id}-title`;
  const hasResult = task.result != null;

  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      onChanged(await cancelTask(api, task.id));
    } catch (caught) {
      // 409: it ended meanwhile; its event brings the final state.
      if (!(caught instanceof ApiError && caught.status === 409)) setError(describeError(caught, t));
    } finally {
      setBusy(false);
    }
  };

  const seconds =
    task.started_at && task.finished_at
      ? (Date.parse(task.finished_at) - Date.parse(task.started_at)) / 1000
      : null;

  return (
    <li className="task" data-task-id={task.id} data-state={task.state} aria-labelledby={headingId}>
      <div className="task-head">
        <h3 id={headingId} className="task-title">
          <span className="task-id">#{task.id}</span> {kindLabel(task.kind, t)}
        </h3>
        <span className={`badge state-${task.state}`} data-testid="task-state">
          {stateLabel(task.state, t)}
        </span>
        {canCancel && !ended ? (
          <button
            type="button"
            className="button small"
            onClick={() => void cancel()}
            disabled={busy || task.cancel_requested}
            aria-label={t('tasks.cancelTask', { id: task.id })}
          >
            {task.cancel_requested || busy ? t('tasks.cancelling') : t('tasks.cancel')}
          </button>
        ) : null}
      </div>
      <ProgressBar
        value={task.progress}
        label={t('tasks.progress', { id: task.id })}
        tone={tone(task)}
      />
      {task.message ? <p className="task-message">{task.message}</p> : null}
      {task.error ? <p className="task-error">{task.error}</p> : null}
      {error ? (
        <p className="task-error" role="alert">
          {error}
        </p>
      ) : null}
      <p className="task-meta muted small">
        <span>{t('tasks.attempts', { n: Math.max(task.attempts, 1), max: task.max_attempts })}</span>
        <span>{t('tasks.created', { time: formatDateTime(task.created_at) })}</span>
        {task.finished_at ? <span>{t('tasks.finished', { time: formatDateTime(task.finished_at) })}</span> : null}
        {seconds !== null && seconds >= 0 ? (
          <span>{t('tasks.duration', { seconds: formatNumber(seconds, { maximumFractionDigits: 1 }) })}</span>
        ) : null}
      </p>
      <details className="task-details">
        <summary>
          {t('tasks.payload')}
          {hasResult ? ` / ${t('tasks.result')}` : ''}
        </summary>
        <pre className="pre-scroll">{json(task.payload)}</pre>
        {hasResult ? <pre className="pre-scroll">{json(task.result)}</pre> : null}
      </details>
    </li>
  );
}
