import { useEffect, useState } from 'react';
import { ConfirmButton } from '@/components/ConfirmButton';
import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { PageHeader } from '@/components/PageHeader';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { useApi, type AgentHealth, type AgentView, type FileProblem, type ImportReport } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { getPlatform } from '@/lib/platform';
import { Link } from '@/lib/router';
import {
  deleteAgent,
  duplicateAgent,
  exportAgents,
  importAgents,
  importHistory,
  listAgents,
  testAgent,
  updateAgent,
  type AgentFileFormat,
} from './api';
import { clearFlash, peekFlash } from './flash';
import { FolderStatus, ProblemList, fileProblemsOf } from './FolderStatus';
import { KeyStorePanel } from './KeyStorePanel';
import { healthOk, healthSummary, keyStateLabel, keyStateTone } from './labels';

type Message = { tone: 'success' | 'error'; text: string; task?: number };
type ImportOutcome = { file: string; report: ImportReport } | { file: string; problems: FileProblem[] };

/**
 * The agents. Admins manage them; designers may import a FastGPT app's conversation history into
 * their own conversations; viewers only look.
 */
export function AgentList({ admin, canImportHistory }: { admin: boolean; canImportHistory: boolean }) {
  const { t } = useI18n();
  const api = useApi();
  const agents = useAsync((signal) => listAgents(api, signal), [api]);
  const [message, setMessage] = useState<Message | null>(() => {
    const flash = peekFlash();
    return flash ? { tone: 'success', text: flash } : null;
  });
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [imported, setImported] = useState<ImportOutcome | null>(null);
  const [tests, setTests] = useState<ReadonlyMap<number, AgentHealth | { error: unknown }>>(new Map());
  const [busy, setBusy] = useState(false);
  useEffect(clearFlash, []);

  const list = [...(agents.data ?? [])].sort((a, b) => a.spec.name.localeCompare(b.spec.name));
  const exportIds = list.filter((a) => selected.has(a.id)).map((a) => a.id);

  const act = async (action: () => Promise<string | null>) => {
    setBusy(true);
    try {
      const text = await action();
      if (text) setMessage({ tone: 'success', text });
      agents.reload();
    } catch (error) {
      setMessage({ tone: 'error', text: describeError(error, t) });
    } finally {
      setBusy(false);
    }
  };

  const importFile = async () => {
    const [file] = await getPlatform().openFiles({ extensions: ['toml', 'json'], filterName: t('agents.files') });
    if (!file) return;
    setMessage(null);
    setImported(null);
    setBusy(true);
    try {
      const text = await (await file.read()).text();
      const report = await importAgents(api, file.name, text);
      setImported({ file: file.name, report });
      agents.reload();
    } catch (error) {
      const problems = fileProblemsOf(error);
      if (problems) setImported({ file: file.name, problems });
      else setMessage({ tone: 'error', text: describeError(error, t) });
    } finally {
      setBusy(false);
    }
  };

  const exportFile = (format: AgentFileFormat) =>
    act(async () => {
      const file = await exportAgents(api, format, exportIds);
      await getPlatform().saveFile(file.name, file.blob);
      return null;
    });

  const test = async (agent: AgentView) => {
    setTests((previous) => new Map(previous).set(agent.id, { error: null }));
    try {
      const result = await testAgent(api, agent.id);
      setTests((previous) => new Map(previous).set(agent.id, result));
    } catch (error) {
      setTests((previous) => new Map(previous).set(agent.id, { error }));
    }
  };

  const toggle = (agent: AgentView) =>
    act(async () => {
      const updated = await updateAgent(api, agent.id, {
        spec: { ...agent.spec, enabled: !agent.spec.enabled },
        expected_version: agent.version,
      });
      return updated.spec.enabled
        ? t('agents.enabledOk', { name: updated.spec.name })
        : t('agents.disabledOk', { name: updated.spec.name });
    });

  return (
    <div className="agents-view">
      <PageHeader
        title={t('agents.title')}
        intro={t('agents.intro')}
        actions={
          admin ? (
            <div className="actions">
              <Link to="/agents/new" className="button primary">
                {t('agents.new')}
              </Link>
              <button type="button" className="button" disabled={busy} onClick={() => void importFile()}>
                {t('agents.import')}
              </button>
            </div>
          ) : null
        }
      />
      {!admin ? <Notice>{t('agents.readOnly')}</Notice> : null}
      {message ? (
        <Notice tone={message.tone}>
          {message.text}{' '}
          {message.task !== undefined ? <Link to="/tasks">{t('agents.historyTaskLink')}</Link> : null}
        </Notice>
      ) : null}
      {imported ? <ImportResult outcome={imported} /> : null}
      {admin ? <KeyStorePanel /> : null}
      {admin ? <FolderStatus /> : null}

      <section className="panel" aria-labelledby="agents-list-title">
        <div className="toolbar">
          <h2 id="agents-list-title" className="panel-title">
            {t('agents.list')}
          </h2>
          {admin && list.length > 0 ? (
            <div className="inline-form">
              <span className="muted small">
                {exportIds.length > 0 ? t('agents.exportSelected', { n: exportIds.length }) : t('agents.exportAll')}
              </span>
              <button type="button" className="button small" disabled={busy} onClick={() => void exportFile('toml')}>
                {t('agents.exportToml')}
              </button>
              <button type="button" className="button small" disabled={busy} onClick={() => void exportFile('json')}>
                {t('agents.exportJson')}
              </button>
            </div>
          ) : null}
        </div>
        {agents.status === 'error' ? <Notice tone="error">{describeError(agents.error, t)}</Notice> : null}
        {agents.status === 'loading' && !agents.data ? <Loading label={t('app.loading')} /> : null}
        {agents.data && list.length === 0 ? <p className="empty">{admin ? t('agents.emptyAdmin') : t('agents.empty')}</p> : null}
        {list.length > 0 ? (
          <div className="table-scroll">
            <table className="table" data-testid="agents-table">
              <thead>
                <tr>
                  {admin ? (
                    <th scope="col">
                      <span className="sr-only">{t('agents.select')}</span>
                    </th>
                  ) : null}
                  <th scope="col">{t('agents.name')}</th>
                  <th scope="col">{t('agents.kind')}</th>
                  <th scope="col">{t('agents.provider')}</th>
                  <th scope="col">{t('agents.status')}</th>
                  <th scope="col">{t('agents.key')}</th>
                  <th scope="col">{t('agents.source')}</th>
                  {admin || canImportHistory ? <th scope="col">{t('agents.actions')}</th> : null}
                </tr>
              </thead>
              <tbody>
                {list.map((agent) => {
                  const result = tests.get(agent.id);
                  return (
                    <AgentRow
                      key={agent.id}
                      agent={agent}
                      admin={admin}
                      canImportHistory={canImportHistory}
                      busy={busy}
                      selected={selected.has(agent.id)}
                      result={result}
                      onSelect={(on) =>
                        setSelected((previous) => {
                          const next = new Set(previous);
                          if (on) next.add(agent.id);
                          else next.delete(agent.id);
                          return next;
                        })
                      }
                      onTest={() => void test(agent)}
                      onImportHistory={() => {
                        setBusy(true);
                        importHistory(api, agent.id).then(
                          (task) => {
                            setMessage({ tone: 'success', text: t('agents.historyQueued', { name: agent.spec.name, id: task.id }), task: task.id });
                            setBusy(false);
                          },
                          (error: unknown) => {
                            setMessage({ tone: 'error', text: describeError(error, t) });
                            setBusy(false);
                          },
                        );
                      }}
                      onToggle={() => void toggle(agent)}
                      onDuplicate={() =>
                        void act(async () => {
                          const copy = await duplicateAgent(api, agent.id);
                          return t('agents.duplicated', { name: copy.spec.name });
                        })
                      }
                      onDelete={() =>
                        act(async () => {
                          await deleteAgent(api, agent.id);
                          return t('agents.deleted', { name: agent.spec.name });
                        })
                      }
                    />
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </div>
  );
}

interface RowProps {
  agent: AgentView;
  admin: boolean;
  canImportHistory: boolean;
  busy: boolean;
  selected: boolean;
  result: AgentHealth | { error: unknown } | undefined;
  onSelect: (selected: boolean) => void;
  onTest: () => void;
  onImportHistory: () => void;
  onToggle: () => void;
  onDuplicate: () => void;
  onDelete: () => Promise<void>;
}

function AgentRow(props: RowProps) {
  const { agent, admin, canImportHistory, busy, selected, result, onSelect, onTest, onImportHistory, onToggle, onDuplicate, onDelete } = props;
  const { t } = useI18n();
  const { spec } = agent;
  const columns = admin ? 8 : canImportHistory ? 7 : 6;
  // FastGPT keeps the history of an app: importable when the agent names its app.
  const history =
    canImportHistory && spec.provider === 'fastgpt' && spec.app_id ? (
      <button
        type="button"
        className="button small"
        disabled={busy}
        onClick={onImportHistory}
        aria-label={t('agents.importHistoryOf', { name: spec.name })}
      >
        {t('agents.importHistory')}
      </button>
    ) : null;
  return (
    <>
      <tr data-agent={spec.name} className={spec.enabled ? undefined : 'row-disabled'}>
        {admin ? (
          <td>
            <input
              type="checkbox"
              checked={selected}
              aria-label={t('agents.selectAgent', { name: spec.name })}
              onChange={(event) => onSelect(event.target.checked)}
            />
          </td>
        ) : null}
        <th scope="row">
          {admin ? <Link to={`/agents/${agent.id}`}>{spec.name}</Link> : spec.name}
          {spec.description ? <div className="muted small">{spec.description}</div> : null}
          <div className="muted small">{t('agents.versionN', { n: agent.version })}</div>
        </th>
        <td>{t(`agents.kind.${spec.kind}`)}</td>
        <td>{t(`agents.provider.${spec.provider}`)}</td>
        <td>
          <span className={`badge ${spec.enabled ? 'state-succeeded' : 'state-cancelled'}`} data-testid="agent-enabled">
            {spec.enabled ? t('agents.enabled') : t('agents.disabled')}
          </span>
        </td>
        <td>
          <span className={`badge ${keyStateTone(agent.key)}`} data-testid="agent-key">
            {keyStateLabel(agent.key, t)}
          </span>
        </td>
        <td className="wrap small">{agent.source_file ?? <span className="muted">{t('agents.sourceApp')}</span>}</td>
        {admin ? (
          <td>
            <div className="actions">
              <Link to={`/agents/${agent.id}`} className="button small" aria-label={t('agents.editAgent', { name: spec.name })}>
                {t('agents.edit')}
              </Link>
              <Link
                to={`/agents/${agent.id}/history`}
                className="button small"
                aria-label={t('agents.historyOf', { name: spec.name })}
              >
                {t('agents.history')}
              </Link>
              <button
                type="button"
                className="button small"
                onClick={onTest}
                aria-label={t('agents.testAgent', { name: spec.name })}
              >
                {t('agents.test')}
              </button>
              <button
                type="button"
                className="button small"
                disabled={busy}
                onClick={onToggle}
                aria-label={spec.enabled ? t('agents.disableAgent', { name: spec.name }) : t('agents.enableAgent', { name: spec.name })}
              >
                {spec.enabled ? t('agents.disable') : t('agents.enable')}
              </button>
              <button
                type="button"
                className="button small"
                disabled={busy}
                onClick={onDuplicate}
                aria-label={t('agents.duplicateAgent', { name: spec.name })}
              >
                {t('agents.duplicate')}
              </button>
              {history}
              <ConfirmButton
                label={t('agents.deleteAgent', { name: spec.name })}
                question={t('agents.deleteQuestion', { name: spec.name })}
                disabled={busy}
                onConfirm={onDelete}
              >
                {t('agents.delete')}
              </ConfirmButton>
            </div>
          </td>
        ) : canImportHistory ? (
          <td>{history}</td>
        ) : null}
      </tr>
      {result ? (
        <tr className="test-result-row">
          <td colSpan={columns}>
            <TestResult result={result} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function TestResult({ result }: { result: AgentHealth | { error: unknown } }) {
  const { t } = useI18n();
  if ('error' in result) {
    if (result.error === null) return <Loading label={t('agents.testing')} />;
    return <Notice tone="error">{describeError(result.error, t)}</Notice>;
  }
  const ok = healthOk(result);
  return (
    <div className={`notice ${ok ? 'notice-success' : 'notice-error'}`} role="status" data-testid="test-result">
      <strong>{t('agents.testOf', { name: result.name })}</strong> {healthSummary(result, t)}
      {result.health.error ? <div className="small">{result.health.error}</div> : null}
    </div>
  );
}

function ImportResult({ outcome }: { outcome: ImportOutcome }) {
  const { t } = useI18n();
  if ('problems' in outcome) {
    return (
      <div className="notice notice-error" role="alert" data-testid="import-problems">
        <p>{t('agents.importRefused', { file: outcome.file })}</p>
        <ProblemList problems={outcome.problems} />
      </div>
    );
  }
  const { report } = outcome;
  const names = (list: string[]) => (list.length > 0 ? list.join(', ') : '—');
  return (
    <div className="notice notice-success" role="status" data-testid="import-report">
      <p>{t('agents.imported', { file: outcome.file })}</p>
      <dl className="facts">
        <dt>{t('agents.importCreated')}</dt>
        <dd>{names(report.created)}</dd>
        <dt>{t('agents.importUpdated')}</dt>
        <dd>{names(report.updated)}</dd>
        <dt>{t('agents.importUnchanged')}</dt>
        <dd>{names(report.unchanged)}</dd>
      </dl>
    </div>
  );
}
