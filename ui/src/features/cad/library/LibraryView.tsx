import { useEffect, useRef, useState } from 'react';
import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { PageHeader } from '@/components/PageHeader';
import { ProgressBar } from '@/components/ProgressBar';
import { Loading } from '@/components/Spinner';
import { useI18n, type Translate } from '@/i18n';
import { ApiError, useApi } from '@/lib/api';
import { formatBytes } from '@/lib/format';
import { useAsync } from '@/lib/hooks/useAsync';
import { useDebounced } from '@/lib/hooks/useDebounced';
import { getPlatform } from '@/lib/platform';
import { roleAtLeast, useUser } from '@/lib/session';
import { deleteDrawing, folderStatus, listDrawings, type CadDrawingView } from '../api';
import { RetryNotice } from '../RetryNotice';
import { DrawingCard } from './DrawingCard';
import { DRAWING_EXTENSIONS, useUploads, type Upload } from './useUploads';

/** Why the server refused an upload, in the user's words. */
function uploadProblem(upload: Upload, t: Translate): string {
  if (upload.wrongType) return t('cad.upload.wrongType');
  const error = upload.error;
  if (error instanceof ApiError) {
    if (error.status === 413) return t('cad.upload.tooLarge', { message: error.message });
    if (error.status === 415) return t('cad.upload.unsupported', { message: error.message });
    if (error.status === 422) return t('cad.upload.unreadable', { message: error.message });
  }
  return describeError(error, t);
}

function UploadList({ uploads, onDismiss }: { uploads: readonly Upload[]; onDismiss: (key: number) => void }) {
  const { t } = useI18n();
  if (uploads.length === 0) return null;
  return (
    <ul className="cad-uploads" aria-label={t('cad.upload.list')} data-testid="cad-uploads">
      {uploads.map((upload) => {
        const percent = upload.size ? (upload.loaded / upload.size) * 100 : 0;
        return (
          <li key={upload.key} className="cad-upload" data-state={upload.state}>
            <span className="cad-upload-name">{upload.name}</span>
            {upload.state === 'failed' ? (
              <span className="cad-upload-error" role="alert">
                {uploadProblem(upload, t)}
              </span>
            ) : upload.state === 'done' ? (
              <span className="muted small">{t('cad.upload.done')}</span>
            ) : (
              <span className="cad-upload-progress">
                <ProgressBar
                  value={percent}
                  indeterminate={upload.state === 'reading'}
                  label={t('cad.upload.progress', { name: upload.name })}
                />
                <span className="muted small">
                  {upload.size ? `${formatBytes(upload.loaded)} / ${formatBytes(upload.size)}` : t('cad.upload.reading')}
                </span>
              </span>
            )}
            {upload.state === 'done' || upload.state === 'failed' ? (
              <button type="button" className="chip-remove" aria-label={t('cad.upload.dismiss', { name: upload.name })} onClick={() => onDismiss(upload.key)}>
                ×
              </button>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}

/** The watched CAD folder: where it is, whether changes are picked up, and files it could not read. */
function FolderPanel() {
  const { t } = useI18n();
  const api = useApi();
  const status = useAsync((signal) => folderStatus(api, signal), [api]);
  // No folder configured (null) or not allowed to see it: nothing to show.
  if (!status.data) return null;
  const folder = status.data;
  return (
    <section className="panel" aria-labelledby="cad-folder-title" data-testid="cad-folder">
      <div className="toolbar">
        <h2 id="cad-folder-title" className="panel-title">
          {t('cad.folder.title')}
        </h2>
        <span className={`badge ${folder.enabled ? 'state-succeeded' : 'state-queued'}`}>
          {folder.enabled ? t('cad.folder.watching') : t('cad.folder.notWatching')}
        </span>
        <button type="button" className="button small" onClick={status.reload}>
          {t('cad.folder.refresh')}
        </button>
      </div>
      <p className="small">
        <code>{folder.path}</code> · {t('cad.folder.drawings', { n: folder.drawings })}
      </p>
      {folder.problems.length > 0 ? (
        <div className="notice notice-error">
          <p>{t('cad.folder.problems', { n: folder.problems.length })}</p>
          <ul className="problem-list">
            {folder.problems.map((problem) => (
              <li key={problem.path}>
                <code>{problem.path}</code> {problem.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

/**
 * The drawings of the library as a grid. Designers add drawings by the button (a file dialog) or by
 * dropping files on the view, and delete their own; admins any; viewers look.
 */
export function LibraryView() {
  const { t } = useI18n();
  const api = useApi();
  const user = useUser();
  const designer = roleAtLeast(user.role, 'designer');
  const admin = roleAtLeast(user.role, 'admin');
  const [query, setQuery] = useState('');
  const q = useDebounced(query.trim(), 250);
  const [message, setMessage] = useState<{ tone: 'success' | 'error'; text: string } | null>(null);
  const dropRef = useRef<HTMLDivElement>(null);
  const first = useAsync((signal) => listDrawings(api, { q }, signal), [api, q]);
  const reload = first.reload;
  // Pages after the first, for the first page they follow (a new search or reload starts over).
  const [more, setMore] = useState<{ after: object; items: CadDrawingView[]; next: string | null; error: unknown } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const firstPage = first.data;
  const extra = more && more.after === firstPage ? more : null;
  const items = [...(firstPage?.items ?? []), ...(extra?.items ?? [])];
  const next = extra ? extra.next : (firstPage?.nextCursor ?? null);
  const error = first.status === 'error' ? first.error : (extra?.error ?? null);
  const loading = first.status === 'loading' || loadingMore;

  const loadMore = async () => {
    if (!next || !firstPage) return;
    setLoadingMore(true);
    try {
      const page = await listDrawings(api, { q, cursor: next });
      const known = new Set(items.map((d) => d.id));
      setMore({ after: firstPage, items: [...(extra?.items ?? []), ...page.items.filter((d) => !known.has(d.id))], next: page.nextCursor, error: null });
    } catch (caught) {
      setMore({ after: firstPage, items: extra?.items ?? [], next, error: caught });
    } finally {
      setLoadingMore(false);
    }
  };

  const uploads = useUploads(api, reload);
  const addUploads = uploads.add;

  useEffect(() => {
    const target = dropRef.current;
    if (!target || !designer) return undefined;
    return getPlatform().onFileDrop(target, addUploads);
  }, [designer, addUploads]);

  const pick = async () => {
    const files = await getPlatform().openFiles({ extensions: DRAWING_EXTENSIONS, multiple: true, filterName: t('cad.files') });
    if (files.length > 0) addUploads(files);
  };

  const remove = async (drawing: CadDrawingView) => {
    try {
      await deleteDrawing(api, drawing.id);
      reload();
      setMessage({ tone: 'success', text: t('cad.deleted', { name: drawing.name }) });
    } catch (caught) {
      setMessage({ tone: 'error', text: describeError(caught, t) });
    }
  };

  const canDelete = (drawing: CadDrawingView) => drawing.source === 'upload' && (admin || (designer && drawing.uploadedBy === user.id));

  return (
    <div className="cad-library" ref={dropRef} data-testid="cad-library">
      <PageHeader
        title={t('cad.library.title')}
        intro={designer ? t('cad.library.intro') : t('cad.library.introViewer')}
        actions={
          designer ? (
            <button type="button" className="button primary" onClick={() => void pick()}>
              {t('cad.upload.button')}
            </button>
          ) : null
        }
      />
      {designer ? <p className="cad-drop-hint muted small">{t('cad.upload.dropHint')}</p> : null}
      <UploadList uploads={uploads.uploads} onDismiss={uploads.dismiss} />
      {message ? <Notice tone={message.tone}>{message.text}</Notice> : null}
      <FolderPanel />
      <section className="panel" aria-labelledby="cad-library-list">
        <div className="toolbar">
          <h2 id="cad-library-list" className="panel-title">
            {t('cad.library.drawings')}
          </h2>
          <label className="cad-search">
            <span className="sr-only">{t('cad.library.search')}</span>
            <input type="search" value={query} placeholder={t('cad.library.searchPlaceholder')} onChange={(event) => setQuery(event.target.value)} />
          </label>
        </div>
        {error ? (
          <RetryNotice onRetry={reload}>{t('cad.library.failed', { reason: describeError(error, t) })}</RetryNotice>
        ) : null}
        {loading && items.length === 0 ? <Loading label={t('app.loading')} /> : null}
        {!loading && !error && items.length === 0 ? (
          <p className="empty">{q ? t('cad.library.noMatch', { query: q }) : designer ? t('cad.library.empty') : t('cad.library.emptyViewer')}</p>
        ) : null}
        {items.length > 0 ? (
          <ul className="cad-grid" data-testid="cad-grid">
            {items.map((drawing) => (
              <DrawingCard key={drawing.id} drawing={drawing} canDelete={canDelete(drawing)} onDelete={remove} />
            ))}
          </ul>
        ) : null}
        {next ? (
          <button type="button" className="button" disabled={loading} onClick={() => void loadMore()}>
            {t('cad.library.more')}
          </button>
        ) : null}
      </section>
    </div>
  );
}
