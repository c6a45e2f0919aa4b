import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { useI18n } from '@/i18n';
import { ApiError, useApi, type FileProblem } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { folderStatus } from './api';

function isFileProblem(value: unknown): value is FileProblem {
  return typeof value === 'object' && value !== null && typeof (value as { file?: unknown }).file === 'string' && typeof (value as { message?: unknown }).message === 'string';
}

/** The `[{file, line, column, message}]` of a refused agent file (import), or null for other errors. */
export function fileProblemsOf(error: unknown): FileProblem[] | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const list = error.details['problems'];
  if (!Array.isArray(list)) return null;
  const problems = list.filter(isFileProblem);
  return problems.length > 0 ? problems : null;
}

/** "team.toml:3:7" */
export function where(problem: FileProblem): string {
  let text = problem.file;
  if (problem.line !== null) text += `:${problem.line}`;
  if (problem.line !== null && problem.column !== null) text += `:${problem.column}`;
  return text;
}

export function ProblemList({ problems }: { problems: readonly FileProblem[] }) {
  return (
    <ul className="problem-list">
      {problems.map((problem, index) => (
        <li key={index}>
          <code>{where(problem)}</code> {problem.message}
        </li>
      ))}
    </ul>
  );
}

/** The watched agents folder: where it is, whether changes are picked up, and its files' problems. */
export function FolderStatus() {
  const { t } = useI18n();
  const api = useApi();
  const status = useAsync((signal) => folderStatus(api, signal), [api]);
  if (status.status === 'error') return <Notice tone="error">{describeError(status.error, t)}</Notice>;
  if (!status.data) return null;
  const folder = status.data;
  return (
    <section className="panel" aria-labelledby="agents-folder-title" data-testid="agents-folder">
      <div className="toolbar">
        <h2 id="agents-folder-title" className="panel-title">
          {t('agents.folder')}
        </h2>
        <span className={`badge ${folder.watching ? 'state-succeeded' : 'state-queued'}`}>
          {folder.watching ? t('agents.folderWatching') : t('agents.folderNotWatching')}
        </span>
        <button type="button" className="button small" onClick={status.reload}>
          {t('agents.folderRefresh')}
        </button>
      </div>
      <p className="small">
        <code>{folder.dir}</code>
      </p>
      <p className="muted small">{t('agents.folderHelp')}</p>
      {folder.problems.length > 0 ? (
        <div className="notice notice-error">
          <p>{t('agents.folderProblems', { n: folder.problems.length })}</p>
          <ProblemList problems={folder.problems} />
        </div>
      ) : (
        <p className="small">{t('agents.folderOk')}</p>
      )}
    </section>
  );
}
