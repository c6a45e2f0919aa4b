import { describeError } from '@/components/describeError';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { useApi } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { entity } from '../api';
import { RetryNotice } from '../RetryNotice';
import type { PickHit } from '../viewer/sceneIndex';

/** The picked entity's properties, as the server reads them from the drawing. */
export function PropertiesPanel({ drawingId, layout, selected }: { drawingId: string; layout: string | null; selected: PickHit | null }) {
  const { t } = useI18n();
  const api = useApi();
  const owner = selected?.owner ?? null;
  const view = useAsync((signal) => (owner === null ? Promise.resolve(null) : entity(api, drawingId, owner, layout, signal)), [api, drawingId, layout, owner]);
  if (owner === null) return <p className="muted small">{t('cad.properties.none')}</p>;
  if (view.status === 'error') {
    return <RetryNotice onRetry={view.reload}>{t('cad.properties.failed', { reason: describeError(view.error, t) })}</RetryNotice>;
  }
  if (!view.data || view.status === 'loading') return <Loading label={t('app.loading')} />;
  const e = view.data;
  const rows: [string, string][] = [
    [t('cad.properties.type'), e.type],
    [t('cad.properties.layer'), e.layer],
    [t('cad.properties.handle'), e.handle || '—'],
    [t('cad.properties.color'), e.color],
    [t('cad.properties.linetype'), e.linetype],
    [t('cad.properties.lineweight'), e.lineweight],
    ...e.properties.map((p): [string, string] => [p.name, p.value]),
  ];
  return (
    <dl className="cad-properties" data-testid="cad-properties">
      {rows.map(([name, value], index) => (
        <div key={`${index}-${name}`}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
