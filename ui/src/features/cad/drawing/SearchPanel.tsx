import { useState, type SubmitEvent } from 'react';
import { useI18n } from '@/i18n';
import type { ViewerController, ViewerState } from '../viewer/controller';

/** Text search over the scene's texts: hits boxed in the drawing, the current one zoomed to. */
export function SearchPanel({ controller, state }: { controller: ViewerController; state: ViewerState }) {
  const { t } = useI18n();
  const [query, setQuery] = useState(state.search.query);
  // A search was made (the controller forgets it when another layout opens).
  const searched = state.search.query !== '';
  const { hits, total, current } = state.search;
  const layers = state.header?.layers ?? [];
  const ready = state.index === 'ready';

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    if (!query.trim()) {
      controller.clearSearch();
      return;
    }
    void controller.search(query);
  };

  const go = (step: number) => {
    if (hits.length === 0) return;
    controller.showHit((current + step + hits.length) % hits.length);
  };

  return (
    <div className="cad-search-panel" data-testid="cad-search">
      <form className="inline-form" role="search" onSubmit={submit}>
        <label htmlFor="cad-search-input" className="sr-only">
          {t('cad.search.label')}
        </label>
        <input id="cad-search-input" type="search" value={query} placeholder={t('cad.search.placeholder')} onChange={(event) => setQuery(event.target.value)} />
        <button type="submit" className="button small" disabled={!ready}>
          {t('cad.search.submit')}
        </button>
      </form>
      {!ready ? <p className="muted small">{state.index === 'failed' ? t('cad.search.unavailable') : t('cad.search.preparing')}</p> : null}
      {searched && hits.length === 0 ? <p className="muted small">{t('cad.search.noHits', { query: state.search.query })}</p> : null}
      {hits.length > 0 ? (
        <>
          <div className="toolbar">
            <span className="small" aria-live="polite" data-testid="cad-search-count">
              {total > hits.length ? t('cad.search.countLimited', { n: current + 1, shown: hits.length, total }) : t('cad.search.count', { n: current + 1, total })}
            </span>
            <button type="button" className="button small" onClick={() => go(-1)} aria-label={t('cad.search.previous')}>
              ‹
            </button>
            <button type="button" className="button small" onClick={() => go(1)} aria-label={t('cad.search.next')}>
              ›
            </button>
            <button
              type="button"
              className="link-button small"
              onClick={() => controller.clearSearch()}
            >
              {t('cad.search.clear')}
            </button>
          </div>
          <ol className="cad-hits">
            {hits.map((hit, index) => (
              <li key={`${hit.owner}-${index}`}>
                <button type="button" className="cad-hit" aria-current={index === current ? 'true' : undefined} onClick={() => controller.showHit(index)}>
                  <span className="cad-hit-text">{hit.text}</span>
                  <span className="muted small">{layers[hit.layer]?.name ?? ''}</span>
                </button>
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </div>
  );
}
