import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { useI18n, type MessageKey } from '@/i18n';
import { useApi } from '@/lib/api';
import { formatBytes } from '@/lib/format';
import { useAsync } from '@/lib/hooks/useAsync';
import { getPlatform } from '@/lib/platform';
import { Link } from '@/lib/router';
import { roleAtLeast, useUser } from '@/lib/session';
import { useTheme } from '@/lib/theme';
import { getDrawing, renderDrawing, type RenderFormat } from '../api';
import { unitSymbol } from '../format';
import { RetryNotice } from '../RetryNotice';
import { AnalysisPanel } from './AnalysisPanel';
import { BlocksPanel } from './BlocksPanel';
import { LayersPanel } from './LayersPanel';
import { PropertiesPanel } from './PropertiesPanel';
import { SearchPanel } from './SearchPanel';
import { useViewerController, useViewerState } from './useViewer';
import { Viewer } from './Viewer';

type Tab = 'layers' | 'properties' | 'blocks' | 'search' | 'analysis';
const TABS: readonly { id: Tab; label: MessageKey }[] = [
  { id: 'layers', label: 'cad.tab.layers' },
  { id: 'properties', label: 'cad.tab.properties' },
  { id: 'blocks', label: 'cad.tab.blocks' },
  { id: 'search', label: 'cad.tab.search' },
  { id: 'analysis', label: 'cad.tab.analysis' },
];

/** The layout named in the address (`?layout=…`), else model space. */
function layoutFromAddress(): string | null {
  return new URLSearchParams(window.location.search).get('layout');
}

/** One drawing: the viewer with its tools, and beside it layers, properties, blocks, search and analysis. */
export function DrawingView({ id }: { id: string }) {
  const { t, formatNumber } = useI18n();
  const api = useApi();
  const user = useUser();
  const { theme } = useTheme();
  const detail = useAsync((signal) => getDrawing(api, id, signal), [api, id]);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const controller = useViewerController(api, id, canvasRef, theme);
  const state = useViewerState(controller);
  const [layout, setLayout] = useState<string | null>(layoutFromAddress);
  const [tab, setTab] = useState<Tab>('layers');
  const [exporting, setExporting] = useState<RenderFormat | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);
  const tabRefs = useRef(new Map<Tab, HTMLButtonElement>());

  useEffect(() => {
    void controller.open(layout);
  }, [controller, layout]);

  // A new pick shows its properties (state adjusted while rendering, as React recommends).
  const selected = state.selected;
  const [shownPick, setShownPick] = useState(selected);
  if (selected !== shownPick) {
    setShownPick(selected);
    if (selected) setTab('properties');
  }

  const drawing = detail.data?.drawing;
  const name = drawing?.name ?? t('cad.viewer.untitled');
  const layouts = detail.data?.layouts ?? drawing?.layouts ?? [];
  const modelName = layouts.find((l) => l.toLowerCase() === 'model') ?? 'Model';

  const chooseLayout = (value: string) => {
    const next = value === modelName ? null : value;
    const search = next ? `?layout=${encodeURIComponent(next)}` : '';
    window.history.replaceState(null, '', `${window.location.pathname}${search}`);
    setLayout(next);
  };

  const exportAs = async (format: RenderFormat) => {
    setExporting(format);
    setExportError(null);
    try {
      const base = name.replace(/\.(dxf|dwg)$/i, '');
      const file = await renderDrawing(api, id, { format, layout, background: state.background }, `${base}.${format}`);
      await getPlatform().saveFile(file.name, file.blob);
    } catch (error) {
      setExportError(error);
    } finally {
      setExporting(null);
    }
  };

  const tabKey = (event: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    const next = TABS[(index + step + TABS.length) % TABS.length];
    if (!next) return;
    setTab(next.id);
    tabRefs.current.get(next.id)?.focus();
  };

  const ready = state.phase === 'ready';
  const header = state.header;
  const summary = drawing
    ? [drawing.release, unitSymbol(drawing.units) || drawing.units, formatBytes(drawing.sizeBytes), t('cad.entityCount', { n: formatNumber(drawing.entityCount) })]
        .filter(Boolean)
        .join(' · ')
    : '';

  return (
    <div className="cad-drawing">
      <header className="cad-drawing-header">
        <div>
          <p className="small">
            <Link to="/cad">{t('cad.backToLibrary')}</Link>
          </p>
          <h1 tabIndex={-1} data-page-title className="cad-drawing-title">
            {name}
          </h1>
          {summary ? <p className="muted small">{summary}</p> : null}
        </div>
      </header>
      {detail.status === 'error' ? (
        <RetryNotice onRetry={detail.reload}>{t('cad.detailFailed', { reason: describeError(detail.error, t) })}</RetryNotice>
      ) : null}
      {exportError ? <Notice tone="error">{t('cad.export.failed', { reason: describeError(exportError, t) })}</Notice> : null}

      <div className="cad-toolbar" role="toolbar" aria-label={t('cad.toolbar')}>
        <div className="cad-tool-group">
          <button type="button" className="button small" disabled={!ready} onClick={() => controller.fitView()} title={t('cad.tool.fitKeys')}>
            {t('cad.tool.fit')}
          </button>
          <button type="button" className="button small" disabled={!ready} onClick={() => controller.zoomStep(1.25)} aria-label={t('cad.tool.zoomIn')} title={t('cad.tool.zoomIn')}>
            +
          </button>
          <button type="button" className="button small" disabled={!ready} onClick={() => controller.zoomStep(0.8)} aria-label={t('cad.tool.zoomOut')} title={t('cad.tool.zoomOut')}>
            −
          </button>
          <button
            type="button"
            className="button small"
            disabled={!ready}
            aria-pressed={state.tool === 'measure'}
            onClick={() => controller.setTool(state.tool === 'measure' ? 'select' : 'measure')}
            title={t('cad.tool.measureKeys')}
          >
            {t('cad.tool.measure')}
          </button>
          <button
            type="button"
            className="button small"
            aria-pressed={state.background === 'dark'}
            onClick={() => controller.setBackground(state.background === 'dark' ? 'light' : 'dark')}
          >
            {state.background === 'dark' ? t('cad.tool.lightBackground') : t('cad.tool.darkBackground')}
          </button>
        </div>
        <div className="cad-tool-group">
          {layouts.length > 1 ? (
            <label className="cad-layout-select small">
              {t('cad.tool.layout')}{' '}
              <select value={layout ?? modelName} onChange={(event) => chooseLayout(event.target.value)}>
                {layouts.map((l) => (
                  <option key={l} value={l}>
                    {l === modelName ? t('cad.tool.modelSpace') : l}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
          <button type="button" className="button small" disabled={exporting !== null || !drawing} onClick={() => void exportAs('png')}>
            {exporting === 'png' ? t('cad.export.busy') : t('cad.export.png')}
          </button>
          <button type="button" className="button small" disabled={exporting !== null || !drawing} onClick={() => void exportAs('svg')}>
            {exporting === 'svg' ? t('cad.export.busy') : t('cad.export.svg')}
          </button>
          <details className="cad-help">
            <summary className="button small">{t('cad.help.title')}</summary>
            <div className="cad-help-body" role="note">
              <p className="small">{t('cad.help.mouse')}</p>
              <ul className="small">
                <li>
                  <kbd>F</kbd> / <kbd>0</kbd> {t('cad.help.fit')}
                </li>
                <li>
                  <kbd>+</kbd> <kbd>−</kbd> {t('cad.help.zoom')}
                </li>
                <li>
                  <kbd>←</kbd> <kbd>↑</kbd> <kbd>→</kbd> <kbd>↓</kbd> {t('cad.help.pan')}
                </li>
                <li>
                  <kbd>M</kbd> {t('cad.help.measure')}
                </li>
                <li>
                  <kbd>Esc</kbd> {t('cad.help.clear')}
                </li>
              </ul>
            </div>
          </details>
        </div>
      </div>

      <div className="cad-workspace">
        <Viewer controller={controller} state={state} canvasRef={canvasRef} name={name} onRetry={() => void controller.open(layout)} />
        <aside className="cad-side" aria-label={t('cad.side')}>
          <div className="cad-tabs" role="tablist" aria-label={t('cad.side')}>
            {TABS.map((entry, index) => (
              <button
                key={entry.id}
                ref={(element) => {
                  if (element) tabRefs.current.set(entry.id, element);
                  else tabRefs.current.delete(entry.id);
                }}
                type="button"
                role="tab"
                id={`cad-tab-${entry.id}`}
                aria-selected={tab === entry.id}
                aria-controls={`cad-panel-${entry.id}`}
                tabIndex={tab === entry.id ? 0 : -1}
                className="cad-tab"
                onClick={() => setTab(entry.id)}
                onKeyDown={(event) => tabKey(event, index)}
              >
                {t(entry.label)}
              </button>
            ))}
          </div>
          <div className="cad-tab-panel" role="tabpanel" id={`cad-panel-${tab}`} aria-labelledby={`cad-tab-${tab}`} tabIndex={0}>
            {tab === 'layers' ? <LayersPanel controller={controller} state={state} /> : null}
            {tab === 'properties' ? <PropertiesPanel drawingId={id} layout={layout} selected={selected} /> : null}
            {tab === 'blocks' ? <BlocksPanel facts={detail.data?.facts ?? null} /> : null}
            {tab === 'search' ? <SearchPanel controller={controller} state={state} /> : null}
            {tab === 'analysis' ? <AnalysisPanel drawingId={id} canAnalyse={roleAtLeast(user.role, 'designer')} /> : null}
          </div>
        </aside>
      </div>
      {header ? (
        <p className="cad-status muted small" data-testid="cad-status">
          {header.paperSpace ? t('cad.status.paper', { layout: header.layout }) : t('cad.status.model')}
          {' · '}
          {t('cad.status.counts', {
            segments: formatNumber(state.counts?.segments ?? 0),
            triangles: formatNumber(state.counts?.triangles ?? 0),
            glyphs: formatNumber(state.counts?.glyphs ?? 0),
          })}
          {header.shortfall && header.shortfall.instancesTotal > 0
            ? ` · ${t('cad.status.shortfall', { drawn: formatNumber(header.shortfall.instancesDrawn), total: formatNumber(header.shortfall.instancesTotal) })}`
            : header.truncated
              ? ` · ${t('cad.status.truncated')}`
              : ''}
          {header.paperSpace && header.viewports.length > 0 ? ` · ${state.viewportsShown ? t('cad.status.viewports', { n: header.viewports.length }) : t('cad.status.viewportsLoading')}` : ''}
          {state.timings.pictureMs !== null
            ? ` · ${t('cad.status.firstFrame', { ms: Math.round(state.timings.pictureMs) })}`
            : ready
              ? ` · ${t('cad.status.drawing')}`
              : ''}
          {state.index === 'pending' && ready ? ` · ${t('cad.status.indexing')}` : ''}
        </p>
      ) : null}
    </div>
  );
}
