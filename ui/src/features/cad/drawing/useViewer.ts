import { useEffect, useState, useSyncExternalStore, type RefObject } from 'react';
import type { ApiClient } from '@/lib/api';
import type { Background } from '../viewer/colors';
import { ViewerController, type ViewerState } from '../viewer/controller';

/**
 * The viewer of one drawing (the component is keyed by the drawing), bound to `canvas` while it is
 * mounted. React's strict mode mounts twice: the controller then detaches and attaches again.
 */
export function useViewerController(api: ApiClient, drawingId: string, canvas: RefObject<HTMLCanvasElement | null>, background: Background): ViewerController {
  const [controller] = useState(() => new ViewerController(api, drawingId, background));
  useEffect(() => {
    const element = canvas.current;
    if (!element) return undefined;
    controller.attach(element);
    // For benchmarks and browser tests: draw-and-wait, frame statistics, where a drawing point is
    // and what colour a pixel has (a WebGL canvas cannot be read back from outside).
    Object.defineProperty(element, 'zkViewer', {
      configurable: true,
      value: {
        renderAndFinish: (complete?: boolean) => controller.renderAndFinish(complete),
        panBy: (dx: number, dy: number) => controller.panBy(dx, dy),
        zoom: (factor: number) => controller.zoomStep(factor),
        fit: () => controller.fitView(),
        stats: () => controller.stats,
        toScreen: (x: number, y: number) => controller.drawingToScreen(x, y),
        pixel: (x: number, y: number) => controller.readPixel(x, y),
        /** Milliseconds a click takes to pick (worker round trip) and fetch the highlight. */
        pick: async (x: number, y: number) => {
          const started = performance.now();
          await controller.click(x, y);
          return performance.now() - started;
        },
      },
    });
    return () => controller.detach();
  }, [controller, canvas]);
  return controller;
}

/** The controller's state, re-rendering on each change. */
export function useViewerState(controller: ViewerController): ViewerState {
  return useSyncExternalStore(controller.store.subscribe, controller.store.get);
}
