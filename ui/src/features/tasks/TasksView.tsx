import { useCallback, useMemo, useState } from 'react';
import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { PageHeader } from '@/components/PageHeader';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { useApi, type TaskState, type TaskView } from '@/lib/api';
import { getPlatform } from '@/lib/platform';
import { roleAtLeast, useUser } from '@/lib/session';
import { STATES, kindLabel, stateLabel } from './labels';
import { SelfTestForm } from './SelfTestForm';
import { TaskItem } from './TaskItem';
import { sortedTasks } from './taskList';
import { useTaskFeed, type Connection } from './useTaskFeed';

const NOTIFY_KEYS = {
  succeeded: 'tasks.notify.succeeded',
  failed: 'tasks.notify.failed',
  cancelled: 'tasks.notify.cancelled',
} as const;

export function TasksView() {
  const { t } = useI18n();
  const api = useApi();
  const user = useUser();
  const canStart = roleAtLeast(user.role, 'designer');
  const [filter, setFilter] = useState<TaskState | null>(null);
  const [announcement, setAnnouncement] = useState('');

  const onEnded = useCallback(
    (task: TaskView) => {
      if (task.state === 'queued' || task.state === 'running') return;
      const title = t(NOTIFY_KEYS[task.state], { id: task.id });
      const body = task.error ?? task.message ?? kindLabel(task.kind, t);
      setAnnouncement(`${title}. ${body}`);
      // System notifications only for the user's own work (an admin sees everyone's tasks).
      if (task.created_by === user.id) void getPlatform().notify(title, body).catch(() => undefined);
    },
    [t, user.id],
  );

  const feed = useTaskFeed(api, filter, onEnded);
  const tasks = useMemo(() => sortedTasks(feed.tasks, filter), [feed.tasks, filter]);

  return (
    <div className="tasks-view">
      <PageHeader
        title={t('tasks.title')}
        intro={t('tasks.intro')}
        actions={<ConnectionBadge connection={feed.connection} />}
      />
      {canStart ? <SelfTestForm onStarted={feed.upsert} /> : <Notice>{t('tasks.viewerNote')}</Notice>}

      <section className="panel" aria-labelledby="task-list-title">
        <div className="toolbar">
          <h2 id="task-list-title" className="panel-title">
            {t('tasks.list')}
          </h2>
          <div className="field field-inline">
            <label htmlFor="task-filter">{t('tasks.filter')}</label>
            <select
              id="task-filter"
              value={filter ?? ''}
              onChange={(event) => setFilter((event.target.value || null) as TaskState | null)}
            >
              <option value="">{t('tasks.filter.all')}</option>
              {STATES.map((state) => (
                <option key={state} value={state}>
                  {stateLabel(state, t)}
                </option>
              ))}
            </select>
          </div>
          <button type="button" className="button small" onClick={feed.reload}>
            {t('tasks.refresh')}
          </button>
        </div>

        {feed.error ? <Notice tone="error">{describeError(feed.error, t)}</Notice> : null}
        {tasks.length === 0 && feed.loading ? <Loading label={t('app.loading')} /> : null}
        {tasks.length === 0 && !feed.loading && !feed.error ? (
          <p className="empty">{filter ? t('tasks.emptyFiltered') : t('tasks.empty')}</p>
        ) : null}
        {tasks.length > 0 ? (
          <ul className="task-list" aria-labelledby="task-list-title">
            {tasks.map((task) => (
              <TaskItem key={task.id} task={task} canCancel={canStart} onChanged={feed.upsert} />
            ))}
          </ul>
        ) : null}
        {feed.hasMore ? (
          <button type="button" className="button" onClick={feed.loadMore} disabled={feed.loading}>
            {t('tasks.loadMore')}
          </button>
        ) : null}
      </section>
      <div className="sr-only" role="status" aria-live="polite">
        {announcement}
      </div>
    </div>
  );
}

function ConnectionBadge({ connection }: { connection: Connection }) {
  const { t } = useI18n();
  const label =
    connection === 'live' ? t('tasks.live') : connection === 'reconnecting' ? t('tasks.reconnecting') : t('tasks.connecting');
  return (
    <span className={`badge connection-${connection}`} data-testid="task-connection">
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}
