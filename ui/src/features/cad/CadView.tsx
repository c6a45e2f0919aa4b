import { usePath } from '@/lib/router';
import { DrawingView } from './drawing/DrawingView';
import { LibraryView } from './library/LibraryView';

export type CadPage = { page: 'library' } | { page: 'drawing'; id: string };

/** `/cad` is the library, `/cad/<id>` one drawing. */
export function cadPage(path: string): CadPage {
  const match = /^\/cad\/([^/]+)\/?$/.exec(path);
  if (!match?.[1]) return { page: 'library' };
  try {
    return { page: 'drawing', id: decodeURIComponent(match[1]) };
  } catch {
    return { page: 'library' };
  }
}

/** CAD: the library of drawings, and the viewer of one. */
export function CadView() {
  const page = cadPage(usePath());
  return page.page === 'drawing' ? <DrawingView key={page.id} id={page.id} /> : <LibraryView />;
}
