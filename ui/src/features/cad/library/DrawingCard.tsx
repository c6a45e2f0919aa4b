import { useEffect, useState } from 'react';
import { ConfirmButton } from '@/components/ConfirmButton';
import { useI18n } from '@/i18n';
import { useApi } from '@/lib/api';
import { formatBytes } from '@/lib/format';
import { Link } from '@/lib/router';
import { thumbnail, type CadDrawingView } from '../api';
import { unitSymbol } from '../format';

/**
 * The thumbnail, fetched with the bearer token (an <img src> cannot send it) and shown from a
 * blob: URL, which both the server's and the desktop window's content policies allow.
 */
function Thumbnail({ drawing }: { drawing: CadDrawingView }) {
  const { t } = useI18n();
  const api = useApi();
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const wanted = drawing.status === 'ready' && drawing.thumbnailUrl !== null;

  useEffect(() => {
    if (!wanted) return undefined;
    const controller = new AbortController();
    let objectUrl: string | null = null;
    thumbnail(api, drawing.id, controller.signal).then(
      (blob) => {
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      () => {
        if (!controller.signal.aborted) setFailed(true);
      },
    );
    return () => {
      controller.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, drawing.id, drawing.updatedAt, wanted]);

  if (url) return <img className="cad-thumb" src={url} alt={t('cad.thumbnailOf', { name: drawing.name })} data-testid="cad-thumbnail" />;
  return (
    <div className="cad-thumb cad-thumb-empty" aria-hidden="true">
      {wanted && !failed ? '…' : drawing.format.toUpperCase()}
    </div>
  );
}

interface Props {
  drawing: CadDrawingView;
  canDelete: boolean;
  onDelete: (drawing: CadDrawingView) => Promise<void>;
}

/** One drawing of the library: thumbnail, name, release, size, units, status and where it came from. */
export function DrawingCard({ drawing, canDelete, onDelete }: Props) {
  const { t, formatNumber, formatDateTime } = useI18n();
  const release = [drawing.release, drawing.acadVersion].filter(Boolean).join(' · ');
  const units = unitSymbol(drawing.units) || (drawing.units ?? '');
  const ready = drawing.status === 'ready';
  return (
    <li className="cad-card" data-testid="cad-card" data-status={drawing.status}>
      {ready ? (
        <Link to={`/cad/${encodeURIComponent(drawing.id)}`} className="cad-card-open" aria-label={t('cad.open', { name: drawing.name })}>
          <Thumbnail drawing={drawing} />
        </Link>
      ) : (
        <Thumbnail drawing={drawing} />
      )}
      <div className="cad-card-body">
        <h3 className="cad-card-title" title={drawing.name}>
          {ready ? <Link to={`/cad/${encodeURIComponent(drawing.id)}`}>{drawing.name}</Link> : drawing.name}
        </h3>
        <dl className="cad-facts">
          <div>
            <dt>{t('cad.release')}</dt>
            <dd>{release || t('cad.unknown')}</dd>
          </div>
          <div>
            <dt>{t('cad.size')}</dt>
            <dd>{formatBytes(drawing.sizeBytes)}</dd>
          </div>
          <div>
            <dt>{t('cad.units')}</dt>
            <dd>{units || t('cad.unitless')}</dd>
          </div>
          <div>
            <dt>{t('cad.entities')}</dt>
            <dd>{formatNumber(drawing.entityCount)}</dd>
          </div>
        </dl>
        <p className="cad-card-meta small">
          <span className={`badge ${ready ? 'state-succeeded' : 'state-failed'}`}>{ready ? t('cad.drawingStatus.ready') : t('cad.drawingStatus.failed')}</span>{' '}
          <span className="badge">{drawing.source === 'folder' ? t('cad.source.folder') : t('cad.source.upload')}</span>{' '}
          {drawing.latestAnalysis ? (
            <span className={`badge state-${drawing.latestAnalysis.state}`}>{t('cad.analysis.badge', { state: t(`tasks.state.${drawing.latestAnalysis.state}`) })}</span>
          ) : null}
        </p>
        {drawing.error ? <p className="cad-card-error small">{drawing.error}</p> : null}
        {drawing.folderPath ? (
          <p className="muted small cad-card-path" title={drawing.folderPath}>
            {drawing.folderPath}
          </p>
        ) : null}
        <p className="muted small">{formatDateTime(drawing.updatedAt)}</p>
        {canDelete ? (
          <ConfirmButton label={t('cad.deleteNamed', { name: drawing.name })} question={t('cad.deleteQuestion', { name: drawing.name })} onConfirm={() => onDelete(drawing)}>
            {t('cad.delete')}
          </ConfirmButton>
        ) : null}
      </div>
    </li>
  );
}
