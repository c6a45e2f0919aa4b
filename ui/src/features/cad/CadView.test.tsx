import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CadAnalysisView, CadDrawingDetail, CadDrawingView, UserView } from '@/lib/api';
import { json } from '@/test/fakeServer';
import { renderWithApp } from '@/test/render';
import { CadView, cadPage } from './CadView';

const designer: UserView = {
  id: 3,
  username: 'dora',
  display_name: 'Dora',
  role: 'designer',
  disabled: false,
  has_password: true,
  created_at: '2026-11-25T09:00:00Z',
};
const viewer: UserView = { ...designer, id: 4, username: 'vera', role: 'viewer' };

function drawing(id: string, name: string, extra: Partial<CadDrawingView> = {}): CadDrawingView {
  return {
    id,
    name,
    format: 'dxf',
    acadVersion: 'AC1032',
    release: 'R2018',
    sizeBytes: 20_506,
    units: 'millimeters',
    entityCount: 14,
    layouts: ['Model', 'Sheet A3'],
    source: 'upload',
    folderPath: null,
    status: 'ready',
    error: null,
    thumbnailUrl: null,
    uploadedBy: designer.id,
    createdAt: '2026-12-01T09:00:00Z',
    updatedAt: '2026-12-01T09:00:00Z',
    latestAnalysis: null,
    ...extra,
  };
}

const plan = drawing('d1', 'plan.dxf');
const broken = drawing('d2', 'broken.dxf', { status: 'failed', error: 'line 12: a group code is not a number', entityCount: 0, uploadedBy: 99 });

function at(path: string) {
  window.history.pushState(null, '', path);
}

beforeEach(() => {
  // jsdom has no WebGL: the viewer says so, and everything beside the canvas still works.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});
afterEach(() => at('/'));

describe('CAD pages', () => {
  it('reads the page from the path', () => {
    expect(cadPage('/cad')).toEqual({ page: 'library' });
    expect(cadPage('/cad/abc')).toEqual({ page: 'drawing', id: 'abc' });
    expect(cadPage('/cad/a%20b/')).toEqual({ page: 'drawing', id: 'a b' });
    expect(cadPage('/cad/%E0')).toEqual({ page: 'library' });
  });
});

describe('the library', () => {
  it('shows each drawing with its version, size and units, and why a failed one failed', async () => {
    at('/cad');
    await renderWithApp(<CadView />, {
      user: viewer,
      routes: { 'GET /api/cad/drawings': () => json(200, { items: [plan, broken], nextCursor: null }), 'GET /api/cad/folder': () => json(200, null) },
    });
    const cards = await screen.findAllByTestId('cad-card');
    expect(cards).toHaveLength(2);
    const first = within(cards[0] as HTMLElement);
    expect(first.getByRole('link', { name: 'plan.dxf' }).getAttribute('href')).toBe('/cad/d1');
    expect(cards[0]?.textContent).toContain('R2018 · AC1032');
    expect(cards[0]?.textContent).toContain('21 kB');
    expect(cards[0]?.textContent).toContain('mm');
    expect(cards[1]?.textContent).toContain('Unreadable');
    expect(cards[1]?.textContent).toContain('a group code is not a number');
    // A viewer neither adds nor deletes.
    expect(screen.queryByRole('button', { name: 'Add drawings' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Delete/ })).toBeNull();
  });

  it('searches by name', async () => {
    at('/cad');
    const { server } = await renderWithApp(<CadView />, {
      user: viewer,
      routes: { 'GET /api/cad/drawings': () => json(200, { items: [], nextCursor: null }), 'GET /api/cad/folder': () => json(200, null) },
    });
    await userEvent.type(screen.getByRole('searchbox', { name: 'Search drawings by name' }), '厨房');
    await screen.findByText('No drawing’s name contains “厨房”.');
    expect(server.calls.filter((c) => c.path === '/api/cad/drawings')).toHaveLength(2);
  });

  it('lets a designer delete their own upload but not another’s, and shows the watched folder', async () => {
    at('/cad');
    let items = [plan, broken];
    const { server } = await renderWithApp(<CadView />, {
      user: designer,
      routes: {
        'GET /api/cad/drawings': () => json(200, { items, nextCursor: null }),
        'GET /api/cad/folder': () => json(200, { path: '/srv/cad', enabled: true, drawings: 0, problems: [{ path: 'bad.dxf', message: 'not a drawing' }] }),
        'DELETE /api/cad/drawings/d1': () => {
          items = [broken];
          return new Response(null, { status: 204 });
        },
      },
    });
    const folder = await screen.findByTestId('cad-folder');
    expect(folder.textContent).toContain('/srv/cad');
    expect(folder.textContent).toContain('bad.dxf');
    await screen.findAllByTestId('cad-card');
    expect(screen.queryByRole('button', { name: 'Delete broken.dxf' })).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Delete plan.dxf' }));
    await userEvent.click(screen.getByRole('button', { name: 'Delete' }));
    await screen.findByText('plan.dxf was deleted.');
    await waitFor(() => expect(screen.getAllByTestId('cad-card')).toHaveLength(1));
    expect(server.calls.some((c) => c.method === 'DELETE')).toBe(true);
  });

  it('refuses a file that is not a drawing before sending it, and uploads a DXF with progress', async () => {
    at('/cad');
    const sent: unknown[] = [];
    /** XMLHttpRequest for the upload: progress, then 201 with the new drawing. */
    class FakeXhr {
      status = 0;
      statusText = '';
      response = '';
      responseType = '';
      upload = { onprogress: null as ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
      onload: (() => void) | null = null;
      onerror: (() => void) | null = null;
      onabort: (() => void) | null = null;
      open() {}
      setRequestHeader() {}
      getAllResponseHeaders() {
        return 'content-type: application/json\r\n';
      }
      abort() {}
      send(body: unknown) {
        sent.push(body);
        setTimeout(() => {
          this.upload.onprogress?.({ loaded: 4, total: 9, lengthComputable: true });
          this.status = 201;
          this.response = JSON.stringify(drawing('d9', 'new.dxf'));
          this.onload?.();
        }, 0);
      }
    }
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    let items: CadDrawingView[] = [];
    await renderWithApp(<CadView />, {
      user: designer,
      routes: {
        'GET /api/cad/drawings': () => json(200, { items, nextCursor: null }),
        'GET /api/cad/folder': () => json(200, null),
      },
    });
    const click = vi.spyOn(HTMLInputElement.prototype, 'click').mockImplementation(function (this: HTMLInputElement) {
      Object.defineProperty(this, 'files', { value: [new File(['x'], 'notes.txt'), new File(['0\nSECTION'], 'new.dxf')] });
      items = [drawing('d9', 'new.dxf')];
      this.dispatchEvent(new Event('change'));
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Add drawings' }));
    expect(click).toHaveBeenCalled();
    const uploads = await screen.findByTestId('cad-uploads');
    expect(within(uploads).getByRole('alert').textContent).toContain('Not a DXF or DWG file');
    await within(uploads).findByText('Added to the library.');
    expect(sent).toHaveLength(1);
    await screen.findByRole('link', { name: 'new.dxf' });
    vi.unstubAllGlobals();
  });
});

describe('a drawing', () => {
  const detail: CadDrawingDetail = {
    drawing: plan,
    facts: {
      version: 'AC1032',
      release: 'R2018',
      encoding: 'ascii',
      codepage: null,
      units: { insunits: 4, name: 'millimeters' },
      extents: null,
      extents_source: null,
      header_extents: null,
      layers: [],
      blocks: [{ name: 'CHAIR', entities: 2, inserts: 3, xref_path: null, defined: true }],
      anonymous_blocks: 0,
      layouts: [],
      entity_counts: {},
      unsupported_entities: {},
      texts: [],
      dimensions: [],
    } as unknown as CadDrawingDetail['facts'],
    diagnostics: [],
    layouts: ['Model', 'Sheet A3'],
  };
  const analysis = (extra: Partial<CadAnalysisView>): CadAnalysisView => ({
    id: 'a1',
    drawingId: 'd1',
    taskId: 12,
    state: 'succeeded',
    agentId: null,
    agentName: null,
    agentVersion: null,
    answer: null,
    note: null,
    error: null,
    factsSent: null,
    timings: null,
    createdAt: '2026-12-01T10:00:00Z',
    startedAt: null,
    finishedAt: '2026-12-01T10:00:05Z',
    ...extra,
  });

  it('says when the browser cannot draw, and still lists the blocks with their inserts', async () => {
    at('/cad/d1');
    await renderWithApp(<CadView />, {
      user: viewer,
      routes: {
        'GET /api/cad/drawings/d1': () => json(200, detail),
        'GET /api/cad/drawings/d1/analyses': () => json(200, []),
      },
    });
    await screen.findByRole('heading', { level: 1, name: 'plan.dxf' });
    expect((await screen.findByTestId('cad-error')).textContent).toContain('This browser cannot draw the drawing');
    await userEvent.click(screen.getByRole('tab', { name: 'Blocks' }));
    const row = within(screen.getByTestId('cad-blocks')).getByRole('row', { name: /CHAIR/ });
    expect(row.textContent).toContain('3');
    expect(screen.getByRole<HTMLSelectElement>('combobox', { name: /Layout/ }).value).toBe('Model');
  });

  it('moves between the tabs with the arrow keys', async () => {
    at('/cad/d1');
    await renderWithApp(<CadView />, {
      user: viewer,
      routes: { 'GET /api/cad/drawings/d1': () => json(200, detail), 'GET /api/cad/drawings/d1/analyses': () => json(200, []) },
    });
    const layers = await screen.findByRole('tab', { name: 'Layers' });
    layers.focus();
    await userEvent.keyboard('{ArrowRight}');
    expect(document.activeElement).toBe(screen.getByRole('tab', { name: 'Properties' }));
    expect(screen.getByRole('tab', { name: 'Properties' }).getAttribute('aria-selected')).toBe('true');
    expect(screen.getByRole('tabpanel').textContent).toContain('Click an entity in the drawing');
  });

  it('shows the note when no CAD agent answered, then starts an analysis and follows it', async () => {
    at('/cad/d1');
    let analyses = [analysis({ note: 'No CAD agent is configured: the facts alone are stored.' })];
    const { server } = await renderWithApp(<CadView />, {
      user: designer,
      routes: {
        'GET /api/cad/drawings/d1': () => json(200, detail),
        'GET /api/cad/drawings/d1/analyses': () => json(200, analyses),
        'POST /api/cad/drawings/d1/analyses': () => {
          analyses = [analysis({ id: 'a2', taskId: 13, state: 'succeeded', agentName: 'CAD helper', answer: 'The plan has **3 chairs**.', createdAt: '2026-12-01T11:00:00Z' }), ...analyses];
          return json(202, analysis({ id: 'a2', taskId: 13, state: 'queued', createdAt: '2026-12-01T11:00:00Z' }));
        },
      },
    });
    await userEvent.click(await screen.findByRole('tab', { name: 'Analysis' }));
    const panel = await screen.findByTestId('cad-analysis');
    await within(panel).findByText('No CAD agent is configured: the facts alone are stored.');
    await userEvent.click(within(panel).getByRole('button', { name: 'Analyse again' }));
    await within(panel).findByText('by CAD helper', { exact: false });
    await within(panel).findByText(/3 chairs/);
    expect(server.calls.filter((c) => c.method === 'POST')).toHaveLength(1);
  });

  it('offers a retry when an analysis failed', async () => {
    at('/cad/d1');
    await renderWithApp(<CadView />, {
      user: designer,
      routes: {
        'GET /api/cad/drawings/d1': () => json(200, detail),
        'GET /api/cad/drawings/d1/analyses': () => json(200, [analysis({ state: 'failed', error: { code: 'upstream', message: 'the model API answered 502' } })]),
      },
    });
    await userEvent.click(await screen.findByRole('tab', { name: 'Analysis' }));
    const panel = await screen.findByTestId('cad-analysis');
    expect((await within(panel).findByRole('alert')).textContent).toContain('the model API answered 502');
    expect(within(panel).getByRole<HTMLButtonElement>('button', { name: 'Retry' }).disabled).toBe(false);
  });
});
