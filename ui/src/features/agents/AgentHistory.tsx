import { useState, type SubmitEvent } from 'react';
import { ConfirmButton } from '@/components/ConfirmButton';
import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { PageHeader } from '@/components/PageHeader';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { useApi, type AgentDiffView, type AgentVersionView } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { Link } from '@/lib/router';
import { diffVersions, getAgent, listVersions, restoreVersion } from './api';
import { tidyNumber } from './editorForm';

/** A value of a diff: JSON for structures, as it is for text; "absent" for a missing one. */
export function shownValue(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(tidyNumber(value));
  return JSON.stringify(value, null, 2);
}

/** Every version of an agent, the differences between any two, and restoring one (as a new version). */
export function AgentHistory({ id }: { id: number }) {
  const { t, formatDateTime } = useI18n();
  const api = useApi();
  const agent = useAsync((signal) => getAgent(api, id, signal), [api, id]);
  const versions = useAsync((signal) => listVersions(api, id, signal), [api, id]);
  const [message, setMessage] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const list = [...(versions.data ?? [])].sort((a, b) => b.version - a.version);
  const current = agent.data?.version ?? list[0]?.version ?? null;
  const name = agent.data?.spec.name ?? '';

  const restore = async (version: AgentVersionView) => {
    try {
      const restored = await restoreVersion(api, id, version.version);
      setMessage({ tone: 'success', text: t('agents.restored', { from: version.version, n: restored.version }) });
      agent.reload();
      versions.reload();
    } catch (error) {
      setMessage({ tone: 'error', text: describeError(error, t) });
    }
  };

  return (
    <div className="agent-history">
      <PageHeader
        title={name ? t('agents.historyTitleOf', { name }) : t('agents.history')}
        intro={t('agents.historyIntro')}
        actions={
          <div className="actions">
            <Link to={`/agents/${id}`} className="button">
              {t('agents.edit')}
            </Link>
            <Link to="/agents" className="button">
              {t('agents.back')}
            </Link>
          </div>
        }
      />
      {message ? <Notice tone={message.tone}>{message.text}</Notice> : null}
      {versions.status === 'error' ? <Notice tone="error">{describeError(versions.error, t)}</Notice> : null}
      {versions.status === 'loading' && !versions.data ? <Loading label={t('app.loading')} /> : null}
      {list.length > 1 ? <DiffPanel id={id} versions={list} /> : null}
      {list.length > 0 ? (
        <section className="panel" aria-labelledby="versions-title">
          <h2 id="versions-title" className="panel-title">
            {t('agents.versions', { n: list.length })}
          </h2>
          <div className="table-scroll">
            <table className="table" data-testid="versions-table">
              <thead>
                <tr>
                  <th scope="col">{t('agents.version')}</th>
                  <th scope="col">{t('agents.change')}</th>
                  <th scope="col">{t('agents.changedBy')}</th>
                  <th scope="col">{t('agents.changedAt')}</th>
                  <th scope="col">{t('agents.actions')}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((version) => (
                  <tr key={version.version} data-version={version.version}>
                    <th scope="row">
                      v{version.version}{' '}
                      {version.version === current ? <span className="badge badge-info">{t('agents.current')}</span> : null}
                    </th>
                    <td className="wrap">{version.change}</td>
                    <td>{version.created_by ?? t('agents.changedBySystem')}</td>
                    <td>{formatDateTime(version.created_at)}</td>
                    <td>
                      <div className="actions">
                        <details className="version-spec">
                          <summary>{t('agents.viewSpec')}</summary>
                          <pre className="pre-scroll">{JSON.stringify(version.spec, null, 2)}</pre>
                        </details>
                        {version.version !== current ? (
                          <ConfirmButton
                            className="button small"
                            label={t('agents.restoreVersion', { n: version.version })}
                            question={t('agents.restoreQuestion', { n: version.version })}
                            onConfirm={() => restore(version)}
                          >
                            {t('agents.restore')}
                          </ConfirmButton>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
    </div>
  );
}

function DiffPanel({ id, versions }: { id: number; versions: readonly AgentVersionView[] }) {
  const { t } = useI18n();
  const api = useApi();
  const newest = versions[0]?.version ?? 1;
  const [from, setFrom] = useState(versions[1]?.version ?? newest);
  const [to, setTo] = useState(newest);
  const [diff, setDiff] = useState<AgentDiffView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const compare = async (event: SubmitEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setDiff(await diffVersions(api, id, from, to));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const options = versions.map((v) => (
    <option key={v.version} value={v.version}>
      v{v.version}
    </option>
  ));
  return (
    <section className="panel" aria-labelledby="diff-title">
      <h2 id="diff-title" className="panel-title">
        {t('agents.compare')}
      </h2>
      <form className="inline-form" onSubmit={(event) => void compare(event)}>
        <label htmlFor="diff-from">{t('agents.diffFrom')}</label>
        <select id="diff-from" value={from} onChange={(event) => setFrom(Number(event.target.value))}>
          {options}
        </select>
        <label htmlFor="diff-to">{t('agents.diffTo')}</label>
        <select id="diff-to" value={to} onChange={(event) => setTo(Number(event.target.value))}>
          {options}
        </select>
        <button type="submit" className="button small primary" disabled={busy}>
          {t('agents.compareSubmit')}
        </button>
      </form>
      {error ? <Notice tone="error">{describeError(error, t)}</Notice> : null}
      {diff ? (
        diff.changes.length === 0 ? (
          <p className="empty" role="status">
            {t('agents.noChanges', { from: diff.from, to: diff.to })}
          </p>
        ) : (
          <div className="table-scroll">
            <table className="table diff-table" data-testid="diff-table">
              <caption className="sr-only">{t('agents.diffCaption', { from: diff.from, to: diff.to })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('agents.field')}</th>
                  <th scope="col">v{diff.from}</th>
                  <th scope="col">v{diff.to}</th>
                </tr>
              </thead>
              <tbody>
                {diff.changes.map((change) => {
                  const before = shownValue(change.before);
                  const after = shownValue(change.after);
                  return (
                    <tr key={change.field} data-field={change.field}>
                      <th scope="row">
                        <code>{change.field}</code>
                      </th>
                      <td className="diff-before">{before ?? <span className="muted">{t('agents.absent')}</span>}</td>
                      <td className="diff-after">{after ?? <span className="muted">{t('agents.absent')}</span>}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </section>
  );
}
