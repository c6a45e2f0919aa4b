import { useState } from 'react';
import { useI18n } from '@/i18n';
import { cssColor, inkRgb } from '../viewer/colors';
import { isIsolated } from '../viewer/layers';
import type { ViewerController, ViewerState } from '../viewer/controller';

/** Layers: a swatch of each one's colour, a check box to show it, "only this one", and "all on". */
export function LayersPanel({ controller, state }: { controller: ViewerController; state: ViewerState }) {
  const { t, formatNumber } = useI18n();
  const [filter, setFilter] = useState('');
  const layers = state.header?.layers ?? [];
  const shown = state.visibility.filter(Boolean).length;
  const needle = filter.trim().toLocaleLowerCase();
  const rows = layers
    .map((layer, index) => ({ layer, index, used: state.usage[index] ?? 0 }))
    .filter((row) => !needle || row.layer.name.toLocaleLowerCase().includes(needle));
  if (layers.length === 0) return <p className="muted small">{t('cad.layers.none')}</p>;
  return (
    <div className="cad-layers" data-testid="cad-layers">
      <div className="toolbar">
        <span className="small muted">{t('cad.layers.shown', { shown, total: layers.length })}</span>
        <button type="button" className="button small" onClick={() => controller.allLayersOn()} disabled={shown === layers.length}>
          {t('cad.layers.allOn')}
        </button>
      </div>
      {layers.length > 12 ? (
        <label className="cad-filter">
          <span className="sr-only">{t('cad.layers.filter')}</span>
          <input type="search" value={filter} placeholder={t('cad.layers.filter')} onChange={(event) => setFilter(event.target.value)} />
        </label>
      ) : null}
      <ul className="cad-layer-list">
        {rows.map(({ layer, index, used }) => {
          const visible = state.visibility[index] ?? false;
          const colour = cssColor(inkRgb(layer.color, state.background));
          const isolated = isIsolated(state.visibility, index);
          return (
            <li key={index} className={used === 0 ? 'cad-layer unused' : 'cad-layer'} data-layer={layer.name}>
              <label className="cad-layer-toggle">
                <input type="checkbox" checked={visible} onChange={() => controller.toggleLayer(index)} />
                <span
                  className="cad-swatch"
                  style={{ background: colour }}
                  title={layer.aci !== null ? t('cad.layers.aci', { aci: layer.aci, colour }) : colour}
                  aria-hidden="true"
                />
                <span className="cad-layer-name">{layer.name}</span>
              </label>
              <span className="muted small" title={t('cad.layers.primitives')}>
                {formatNumber(used)}
              </span>
              <button
                type="button"
                className="link-button small"
                aria-pressed={isolated}
                aria-label={t('cad.layers.isolateNamed', { name: layer.name })}
                onClick={() => (isolated ? controller.allLayersOn() : controller.isolateLayer(index))}
              >
                {t('cad.layers.isolate')}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
