import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { Loading } from '@/components/Spinner';
import { useI18n, type MessageKey, type Translate } from '@/i18n';
import { useApi, type Check, type Health, type UpstreamHealth } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { useSession } from '@/lib/session';
import { readFastGptHealth, readHealth } from './api';

const STATUS_KEYS: Record<string, MessageKey> = {
  ok: 'settings.status.ok',
  degraded: 'settings.status.degraded',
  down: 'settings.status.down',
  not_configured: 'settings.status.not_configured',
  reachable: 'settings.status.reachable',
  unauthorized: 'settings.status.unauthorized',
  unreachable: 'settings.status.unreachable',
};

const TONES: Record<string, string> = {
  ok: 'state-succeeded',
  reachable: 'state-succeeded',
  degraded: 'state-queued',
  not_configured: 'state-cancelled',
  unauthorized: 'state-failed',
  down: 'state-failed',
  unreachable: 'state-failed',
};

function statusLabel(status: string, t: Translate): string {
  const key = STATUS_KEYS[status];
  return key ? t(key) : t('settings.status.unknown', { status });
}

function StatusBadge({ status }: { status: string }) {
  const { t } = useI18n();
  return (
    <span className={`badge ${TONES[status] ?? ''}`} data-status={status}>
      {statusLabel(status, t)}
    </span>
  );
}

interface Report {
  health: Health | null;
  healthError: unknown;
  fastgpt: UpstreamHealth | null;
  fastgptError: unknown;
  checkedAt: Date;
}

async function readReport(api: ReturnType<typeof useApi>, signal: AbortSignal): Promise<Report> {
  const [health, fastgpt] = await Promise.allSettled([readHealth(api, signal), readFastGptHealth(api, signal)]);
  return {
    health: health.status === 'fulfilled' ? health.value : null,
    healthError: health.status === 'rejected' ? health.reason : null,
    fastgpt: fastgpt.status === 'fulfilled' ? fastgpt.value : null,
    fastgptError: fastgpt.status === 'rejected' ? fastgpt.reason : null,
    checkedAt: new Date(),
  };
}

/** Where the UI talks to and how the server's parts are doing (`/api/health`, `/api/fastgpt/health`). */
export function ServerConnection({ onVersion }: { onVersion?: (version: string) => void }) {
  const { t, formatDateTime, formatNumber } = useI18n();
  const api = useApi();
  const { desktop } = useSession();
  const report = useAsync(async (signal) => {
    const next = await readReport(api, signal);
    if (next.health) onVersion?.(next.health.version);
    return next;
  }, [api]);
  const data = report.data;
  const latency = (ms: number | null | undefined) =>
    ms === null || ms === undefined ? '—' : t('settings.server.latency', { ms: formatNumber(ms, ms < 1 ? { maximumSignificantDigits: 2 } : { maximumFractionDigits: 1 }) });

  const checks: { key: MessageKey; check: Check }[] = data?.health
    ? [
        { key: 'settings.server.database', check: data.health.database },
        { key: 'settings.server.cache', check: data.health.cache },
        { key: 'settings.server.storage', check: data.health.storage },
      ]
    : [];

  return (
    <section className="panel" aria-labelledby="server-title" data-testid="server-connection">
      <div className="toolbar">
        <h2 id="server-title" className="panel-title">
          {t('settings.server')}
        </h2>
        <button type="button" className="button small" onClick={report.reload} disabled={report.status === 'loading'}>
          {report.status === 'loading' ? t('settings.server.checking') : t('settings.server.refresh')}
        </button>
      </div>
      <dl className="facts">
        <dt>{t('settings.server.url')}</dt>
        <dd>
          <code data-testid="api-base">{api.baseUrl || window.location.origin}</code>
        </dd>
        <dt>{t('settings.server.mode')}</dt>
        <dd>{desktop ? t('settings.server.mode.desktop') : t('settings.server.mode.browser')}</dd>
      </dl>
      {report.status === 'error' ? <Notice tone="error">{describeError(report.error, t)}</Notice> : null}
      {!data && report.status === 'loading' ? <Loading label={t('settings.server.checking')} /> : null}
      {data ? (
        <>
          {data.healthError ? <Notice tone="error">{describeError(data.healthError, t)}</Notice> : null}
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">{t('settings.server.component')}</th>
                  <th scope="col">{t('settings.server.status')}</th>
                  <th scope="col">{t('settings.server.latencyHead')}</th>
                  <th scope="col">{t('settings.server.detail')}</th>
                </tr>
              </thead>
              <tbody>
                {data.health ? (
                  <tr>
                    <th scope="row">{t('settings.server.overall')}</th>
                    <td>
                      <StatusBadge status={data.health.status} />
                    </td>
                    <td>—</td>
                    <td>{data.health.version}</td>
                  </tr>
                ) : null}
                {checks.map(({ key, check }) => (
                  <tr key={key}>
                    <th scope="row">{t(key)}</th>
                    <td>
                      <StatusBadge status={check.status} />
                    </td>
                    <td>{latency(check.latency_ms)}</td>
                    <td className="wrap">{[check.backend, check.error].filter(Boolean).join(' · ') || '—'}</td>
                  </tr>
                ))}
                <tr>
                  <th scope="row">{t('settings.server.fastgpt')}</th>
                  <td>
                    {data.fastgpt ? (
                      <StatusBadge status={data.fastgpt.status} />
                    ) : (
                      <span className="badge state-failed">{describeError(data.fastgptError, t)}</span>
                    )}
                  </td>
                  <td>{latency(data.fastgpt?.latency_ms)}</td>
                  <td className="wrap">
                    {[
                      data.fastgpt?.base_url,
                      data.fastgpt?.key_valid === true ? t('settings.server.keyValid') : null,
                      data.fastgpt?.key_valid === false ? t('settings.server.keyInvalid') : null,
                      data.fastgpt?.error,
                    ]
                      .filter(Boolean)
                      .join(' · ') || '—'}
                  </td>
                </tr>
              </tbody>
            </table>
          </div>
          {data.health ? (
            <p className="muted small">
              {t('settings.server.cacheStats', {
                hits: formatNumber(data.health.cache_stats.hits),
                misses: formatNumber(data.health.cache_stats.misses),
                errors: formatNumber(data.health.cache_stats.errors),
              })}
            </p>
          ) : null}
          <p className="muted small">{t('settings.server.checkedAt', { time: formatDateTime(data.checkedAt) })}</p>
        </>
      ) : null}
    </section>
  );
}
