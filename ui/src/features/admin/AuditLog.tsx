import { useState, type SubmitEvent } from 'react';
import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { useApi, type AuditView as AuditEntry } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { AUDIT_PAGE, listAudit } from './api';

/** Who did what: sign-ins (ok and failed), role and config changes, refused requests. */
export function AuditLog() {
  const { t, formatDateTime } = useI18n();
  const api = useApi();
  const [draft, setDraft] = useState('');
  const [action, setAction] = useState('');
  const [older, setOlder] = useState<AuditEntry[]>([]);
  const [olderError, setOlderError] = useState<unknown>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [exhausted, setExhausted] = useState(false);
  const first = useAsync((signal) => listAudit(api, { action }, signal), [api, action]);

  const entries = [...(first.data ?? []), ...older];
  const hasMore = !exhausted && (first.data?.length ?? 0) >= AUDIT_PAGE;

  const filter = (event: SubmitEvent) => {
    event.preventDefault();
    setOlder([]);
    setExhausted(false);
    setAction(draft);
  };

  const loadOlder = async () => {
    const last = entries.at(-1);
    if (!last) return;
    setLoadingOlder(true);
    try {
      const page = await listAudit(api, { action, before: last.id });
      setOlder((previous) => [...previous, ...page]);
      setExhausted(page.length < AUDIT_PAGE);
      setOlderError(null);
    } catch (caught) {
      setOlderError(caught);
    } finally {
      setLoadingOlder(false);
    }
  };

  return (
    <div className="audit-view">
      <p className="page-intro">{t('admin.audit.intro')}</p>
      <section className="panel" aria-labelledby="audit-title">
        <div className="toolbar">
          <h2 id="audit-title" className="panel-title">
            {t('admin.audit')}
          </h2>
          <form className="inline-form" onSubmit={filter} role="search">
            <label htmlFor="audit-action">{t('admin.audit.filter')}</label>
            <input
              id="audit-action"
              value={draft}
              placeholder="auth.login"
              spellCheck={false}
              onChange={(event) => setDraft(event.target.value)}
            />
            <button type="submit" className="button small">
              {t('admin.audit.apply')}
            </button>
          </form>
        </div>
        {first.status === 'error' ? <Notice tone="error">{describeError(first.error, t)}</Notice> : null}
        {first.status === 'loading' && !first.data ? <Loading label={t('app.loading')} /> : null}
        {first.status === 'ready' && entries.length === 0 ? <p className="empty">{t('admin.audit.empty')}</p> : null}
        {entries.length > 0 ? (
          <div className="table-scroll">
            <table className="table" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">{t('admin.audit.time')}</th>
                  <th scope="col">{t('admin.audit.actor')}</th>
                  <th scope="col">{t('admin.audit.action')}</th>
                  <th scope="col">{t('admin.audit.target')}</th>
                  <th scope="col">{t('admin.audit.outcome')}</th>
                  <th scope="col">{t('admin.audit.ip')}</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <tr key={entry.id}>
                    <td>{formatDateTime(entry.at)}</td>
                    <td>{entry.actor_name ?? (entry.actor_id === null ? t('admin.audit.system') : `#${entry.actor_id}`)}</td>
                    <td>
                      <code>{entry.action}</code>
                    </td>
                    <td className="wrap">{entry.target ?? '—'}</td>
                    <td>
                      <span className={`badge ${entry.outcome === 'ok' ? 'state-succeeded' : 'state-failed'}`}>
                        {entry.outcome}
                      </span>
                    </td>
                    <td>{entry.ip ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
        {olderError ? <Notice tone="error">{describeError(olderError, t)}</Notice> : null}
        {hasMore ? (
          <button type="button" className="button" onClick={() => void loadOlder()} disabled={loadingOlder}>
            {t('admin.audit.loadMore')}
          </button>
        ) : null}
      </section>
    </div>
  );
}
