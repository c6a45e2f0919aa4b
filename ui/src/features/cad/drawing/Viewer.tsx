import { useEffect, useRef, type KeyboardEvent, type PointerEvent, type RefObject } from 'react';
import { describeError } from '@/components/describeError';
import { ProgressBar } from '@/components/ProgressBar';
import { useI18n, type Translate } from '@/i18n';
import { formatBytes } from '@/lib/format';
import { SceneFormatError } from '../scene/decode';
import { wheelFactor } from '../viewer/camera';
import { distance, type ViewerController, type ViewerState } from '../viewer/controller';
import { NoWebGlError } from '../viewer/renderer';
import { formatLength } from '../format';

/** Pointer travel (CSS pixels) below which a press and release is a click, not a drag. */
const CLICK_SLOP = 4;
const KEY_ZOOM = 1.25;

interface Props {
  controller: ViewerController;
  state: ViewerState;
  canvasRef: RefObject<HTMLCanvasElement | null>;
  name: string;
  onRetry: () => void;
}

function position(event: { clientX: number; clientY: number }, element: Element): [number, number] {
  const rect = element.getBoundingClientRect();
  return [event.clientX - rect.left, event.clientY - rect.top];
}

/** What failed, for the error card. */
function failure(error: unknown, t: Translate): { title: string; body: string; retry: boolean } {
  if (error instanceof NoWebGlError) return { title: t('cad.viewer.noWebGl'), body: t('cad.viewer.noWebGlBody'), retry: false };
  if (error instanceof SceneFormatError) return { title: t('cad.viewer.badScene'), body: error.message, retry: true };
  return { title: t('cad.viewer.loadFailed'), body: describeError(error, t), retry: true };
}

/**
 * The drawing's canvas: drag to pan (any button; two fingers pinch), wheel or pinch to zoom about
 * the pointer, click to pick or measure; keys when focused. The frame is drawn by the controller's
 * renderer on demand; this component only forwards input and shows progress, errors and the
 * measured distance.
 */
export function Viewer({ controller, state, canvasRef, name, onRetry }: Props) {
  const { t, locale } = useI18n();
  const boxRef = useRef<HTMLDivElement>(null);
  const gesture = useRef<{ x: number; y: number; moved: boolean; button: number } | null>(null);
  const pointers = useRef(new Map<number, [number, number]>());
  const pinch = useRef<{ distance: number; mid: [number, number] } | null>(null);

  // The canvas follows its box's size.
  useEffect(() => {
    const box = boxRef.current;
    if (!box) return undefined;
    const resize = () => controller.resize({ width: box.clientWidth, height: box.clientHeight });
    resize();
    if (typeof ResizeObserver === 'undefined') {
      window.addEventListener('resize', resize);
      return () => window.removeEventListener('resize', resize);
    }
    const observer = new ResizeObserver(resize);
    observer.observe(box);
    return () => observer.disconnect();
  }, [controller]);

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return undefined;
    const wheel = (event: WheelEvent) => {
      event.preventDefault();
      const [x, y] = position(event, canvas);
      controller.zoomAt(x, y, wheelFactor(event.deltaY, event.deltaMode));
    };
    canvas.addEventListener('wheel', wheel, { passive: false });
    return () => canvas.removeEventListener('wheel', wheel);
  }, [canvasRef, controller]);

  const pinchOf = (): { distance: number; mid: [number, number] } | null => {
    const [a, b] = [...pointers.current.values()];
    if (!a || !b) return null;
    return { distance: Math.hypot(a[0] - b[0], a[1] - b[1]), mid: [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2] };
  };

  const down = (event: PointerEvent<HTMLCanvasElement>) => {
    event.currentTarget.setPointerCapture(event.pointerId);
    const at = position(event, event.currentTarget);
    pointers.current.set(event.pointerId, at);
    if (pointers.current.size === 2) {
      pinch.current = pinchOf();
      gesture.current = null;
    } else {
      gesture.current = { x: at[0], y: at[1], moved: false, button: event.button };
    }
  };

  const move = (event: PointerEvent<HTMLCanvasElement>) => {
    const at = position(event, event.currentTarget);
    if (pointers.current.has(event.pointerId)) pointers.current.set(event.pointerId, at);
    const before = pinch.current;
    if (before && pointers.current.size >= 2) {
      const now = pinchOf();
      if (!now || before.distance === 0) return;
      controller.panBy(now.mid[0] - before.mid[0], now.mid[1] - before.mid[1]);
      controller.zoomAt(now.mid[0], now.mid[1], now.distance / before.distance);
      pinch.current = now;
      return;
    }
    const drag = gesture.current;
    if (drag) {
      const dx = at[0] - drag.x;
      const dy = at[1] - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < CLICK_SLOP) return;
      drag.moved = true;
      controller.panBy(dx, dy);
      drag.x = at[0];
      drag.y = at[1];
      return;
    }
    controller.hover(at[0], at[1]);
  };

  const up = (event: PointerEvent<HTMLCanvasElement>) => {
    pointers.current.delete(event.pointerId);
    if (pointers.current.size < 2) pinch.current = null;
    const drag = gesture.current;
    gesture.current = null;
    if (drag && !drag.moved && drag.button === 0) {
      const [x, y] = position(event, event.currentTarget);
      void controller.click(x, y);
    }
  };

  const key = (event: KeyboardEvent<HTMLCanvasElement>) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const box = event.currentTarget.getBoundingClientRect();
    const step = Math.min(box.width, box.height) * 0.1;
    const actions: Record<string, () => void> = {
      '+': () => controller.zoomStep(KEY_ZOOM),
      '=': () => controller.zoomStep(KEY_ZOOM),
      '-': () => controller.zoomStep(1 / KEY_ZOOM),
      _: () => controller.zoomStep(1 / KEY_ZOOM),
      f: () => controller.fitView(),
      F: () => controller.fitView(),
      Home: () => controller.fitView(),
      '0': () => controller.fitView(),
      ArrowLeft: () => controller.panBy(step, 0),
      ArrowRight: () => controller.panBy(-step, 0),
      ArrowUp: () => controller.panBy(0, step),
      ArrowDown: () => controller.panBy(0, -step),
      m: () => controller.setTool(controller.store.get().tool === 'measure' ? 'select' : 'measure'),
      M: () => controller.setTool(controller.store.get().tool === 'measure' ? 'select' : 'measure'),
      Escape: () => controller.clearSelection(),
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  };

  const phase = state.phase;
  const loading = phase === 'downloading' || phase === 'decoding' || phase === 'uploading' || phase === 'idle';
  const progress = state.progress;
  const measure = state.measure;
  const [a, b] = measure;
  const units = state.header?.units ?? null;
  const problem = phase === 'failed' ? failure(state.error, t) : null;

  return (
    <div className={`cad-canvas-box${state.tool === 'measure' ? ' measuring' : ''}`} ref={boxRef}>
      <canvas
        ref={canvasRef}
        className="cad-canvas"
        tabIndex={0}
        role="img"
        aria-label={t('cad.viewer.canvasLabel', { name })}
        aria-describedby="cad-shortcuts-hint"
        data-testid="cad-canvas"
        data-phase={phase}
        onPointerDown={down}
        onPointerMove={move}
        onPointerUp={up}
        onPointerCancel={up}
        onKeyDown={key}
        onContextMenu={(event) => event.preventDefault()}
      />
      <p id="cad-shortcuts-hint" className="sr-only">
        {t('cad.viewer.shortcutsShort')}
      </p>
      {loading && !problem ? (
        <div className="cad-overlay-card" role="status" data-testid="cad-loading">
          <p>
            {phase === 'uploading'
              ? t('cad.viewer.preparing')
              : phase === 'decoding'
                ? t('cad.viewer.decoding')
                : progress.total
                  ? t('cad.viewer.downloading', { done: formatBytes(progress.done), total: formatBytes(progress.total) })
                  : t('cad.viewer.downloadingUnknown', { done: formatBytes(progress.done) })}
          </p>
          <ProgressBar
            label={t('cad.viewer.progress')}
            value={progress.total ? (progress.done / progress.total) * 100 : 0}
            indeterminate={!progress.total}
          />
        </div>
      ) : null}
      {problem ? (
        <div className="cad-overlay-card cad-error" role="alert" data-testid="cad-error">
          <h2 className="panel-title">{problem.title}</h2>
          <p>{problem.body}</p>
          {problem.retry ? (
            <button type="button" className="button primary" onClick={onRetry}>
              {t('error.retry')}
            </button>
          ) : null}
        </div>
      ) : null}
      {state.contextLost ? (
        <div className="cad-overlay-card" role="status">
          {t('cad.viewer.contextLost')}
        </div>
      ) : null}
      {state.tool === 'measure' ? (
        <div className="cad-measure" aria-live="polite" data-testid="cad-measure">
          {a && b ? (
            <>
              <strong data-testid="cad-distance">{t('cad.measure.distance', { value: formatLength(distance(a, b), units, locale) })}</strong>
              <span className="muted small">
                {t('cad.measure.delta', { dx: formatLength(b[0] - a[0], units, locale), dy: formatLength(b[1] - a[1], units, locale) })}
              </span>
            </>
          ) : (
            <span>{a ? t('cad.measure.second') : t('cad.measure.first')}</span>
          )}
        </div>
      ) : null}
    </div>
  );
}
