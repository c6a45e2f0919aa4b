import { useEffect, useState } from 'react';
import { describeError } from '@/components/describeError';
import { Markdown } from '@/components/markdown/Markdown';
import { Notice } from '@/components/Notice';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { useApi } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { Link } from '@/lib/router';
import { listAnalyses, startAnalysis, type CadAnalysisView } from '../api';
import { RetryNotice } from '../RetryNotice';

/** How often a running analysis is looked at again. */
export const POLL_MS = 1500;

function running(analysis: CadAnalysisView | undefined): boolean {
  return analysis?.state === 'queued' || analysis?.state === 'running';
}

/**
 * "Analyse": the drawing's facts and the CAD agent's answer, as a background task. The newest
 * analysis is shown (its state followed while it runs); designers start one.
 */
export function AnalysisPanel({ drawingId, canAnalyse }: { drawingId: string; canAnalyse: boolean }) {
  const { t, formatDateTime } = useI18n();
  const api = useApi();
  const analyses = useAsync((signal) => listAnalyses(api, drawingId, signal), [api, drawingId]);
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<unknown>(null);
  const [started, setStarted] = useState<CadAnalysisView | null>(null);
  const list = [...(analyses.data ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const latest = list[0] ?? started ?? undefined;
  const { reload } = analyses;
  const live = running(latest);

  // While the newest one runs, read the list again now and then (the task's progress is in Tasks).
  useEffect(() => {
    if (!live) return undefined;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [live, reload]);

  const start = async () => {
    setStarting(true);
    setStartError(null);
    try {
      setStarted(await startAnalysis(api, drawingId));
      reload();
    } catch (error) {
      setStartError(error);
    } finally {
      setStarting(false);
    }
  };

  return (
    <div className="cad-analysis" data-testid="cad-analysis">
      <div className="toolbar">
        {canAnalyse ? (
          <button type="button" className="button small primary" disabled={starting || live} onClick={() => void start()}>
            {latest ? t('cad.analysis.again') : t('cad.analysis.start')}
          </button>
        ) : (
          <span className="muted small">{t('cad.analysis.viewerOnly')}</span>
        )}
      </div>
      {startError ? <Notice tone="error">{t('cad.analysis.startFailed', { reason: describeError(startError, t) })}</Notice> : null}
      {analyses.status === 'error' ? (
        <RetryNotice onRetry={reload}>{describeError(analyses.error, t)}</RetryNotice>
      ) : null}
      {analyses.status === 'loading' && !analyses.data ? <Loading label={t('app.loading')} /> : null}
      {analyses.data && !latest ? <p className="muted small">{t('cad.analysis.none')}</p> : null}
      {latest ? (
        <article className="cad-analysis-result" data-state={latest.state} aria-busy={live}>
          <p className="small">
            <span className={`badge state-${latest.state}`} data-testid="cad-analysis-state">
              {t(`tasks.state.${latest.state}`)}
            </span>{' '}
            {latest.agentName ? t('cad.analysis.by', { agent: latest.agentName }) : null}{' '}
            <span className="muted">{formatDateTime(latest.finishedAt ?? latest.createdAt)}</span>{' '}
            <Link to="/tasks" className="small">
              {t('cad.analysis.task', { id: latest.taskId })}
            </Link>
          </p>
          {live ? <Loading label={t('cad.analysis.running')} /> : null}
          {latest.note ? <Notice>{latest.note}</Notice> : null}
          {latest.error ? (
            <Notice tone="error">
              {t('cad.analysis.failed', { message: latest.error.message })}{' '}
              {canAnalyse ? (
                <button type="button" className="button small" disabled={starting} onClick={() => void start()}>
                  {t('error.retry')}
                </button>
              ) : null}
            </Notice>
          ) : null}
          {latest.answer ? <Markdown text={latest.answer} /> : null}
          {latest.factsSent ? (
            <details className="cad-facts-sent">
              <summary className="small">{t('cad.analysis.facts')}</summary>
              <pre className="pre-scroll small">{JSON.stringify(latest.factsSent, null, 2)}</pre>
            </details>
          ) : null}
        </article>
      ) : null}
    </div>
  );
}
