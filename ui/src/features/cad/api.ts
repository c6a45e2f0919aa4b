import type {
  ApiClient,
  CadAnalysisView,
  CadDrawingDetail,
  CadDrawingPage,
  CadDrawingView,
  CadEntityView,
  CadFolderStatus,
  Download,
  Facts,
  Progress,
} from '@/lib/api';

export type { CadAnalysisView, CadDrawingDetail, CadDrawingView, CadEntityView, CadFolderStatus };

// The CAD library's API (zk-server's routes/cad.rs); the types are generated from the Rust DTOs.

export type RenderFormat = 'png' | 'svg';

const drawing = (id: string) => `/api/cad/drawings/${encodeURIComponent(id)}`;

export const PAGE_SIZE = 50;

export function listDrawings(api: ApiClient, params: { q?: string; cursor?: string | null }, signal?: AbortSignal): Promise<CadDrawingPage> {
  return api.get<CadDrawingPage>('/api/cad/drawings', { query: { limit: PAGE_SIZE, q: params.q, cursor: params.cursor }, signal });
}

/** Uploads a DXF or DWG file as it is; 413 too large, 415 not a drawing, 422 unreadable. */
export function uploadDrawing(api: ApiClient, name: string, data: Blob, options: { onProgress?: Progress; signal?: AbortSignal } = {}): Promise<CadDrawingView> {
  return api.uploadWithProgress<CadDrawingView>('/api/cad/drawings', data, {
    query: { name },
    contentType: 'application/octet-stream',
    onProgress: options.onProgress,
    signal: options.signal,
  });
}

export function getDrawing(api: ApiClient, id: string, signal?: AbortSignal): Promise<CadDrawingDetail> {
  return api.get<CadDrawingDetail>(drawing(id), { signal });
}

export function deleteDrawing(api: ApiClient, id: string): Promise<void> {
  return api.request<undefined>('DELETE', drawing(id));
}

/** The PNG thumbnail as a blob (an <img> cannot send the bearer token). */
export async function thumbnail(api: ApiClient, id: string, signal?: AbortSignal): Promise<Blob> {
  return (await api.download(`${drawing(id)}/thumbnail`, { signal })).blob;
}

/** The scene document of a layout, streamed with progress; `onChunk` sees each piece as it arrives. */
export function sceneBytes(
  api: ApiClient,
  id: string,
  layout: string | null,
  options: { signal?: AbortSignal; onProgress?: Progress; onChunk?: (chunk: Uint8Array) => void } = {},
): Promise<ArrayBuffer> {
  return api.bytes(`${drawing(id)}/scene`, { query: { layout }, ...options });
}

export function entity(api: ApiClient, id: string, owner: number, layout: string | null, signal?: AbortSignal): Promise<CadEntityView> {
  return api.get<CadEntityView>(`${drawing(id)}/entities/${owner}`, { query: { layout }, signal });
}

export function renderDrawing(
  api: ApiClient,
  id: string,
  params: { format: RenderFormat; layout: string | null; background: 'light' | 'dark'; width?: number },
  fallbackName: string,
): Promise<Download> {
  return api.download(`${drawing(id)}/render`, {
    query: { format: params.format, layout: params.layout, background: params.background, width: params.width ?? 2048 },
    fallbackName,
  });
}

export function listAnalyses(api: ApiClient, id: string, signal?: AbortSignal): Promise<CadAnalysisView[]> {
  return api.get<CadAnalysisView[]>(`${drawing(id)}/analyses`, { signal });
}

export function startAnalysis(api: ApiClient, id: string, agentId?: number | null): Promise<CadAnalysisView> {
  return api.post<CadAnalysisView>(`${drawing(id)}/analyses`, agentId ? { agentId } : {});
}

export function folderStatus(api: ApiClient, signal?: AbortSignal): Promise<CadFolderStatus | null> {
  return api.get<CadFolderStatus | null>('/api/cad/folder', { signal });
}

/** The blocks of a drawing's facts with their insert counts, most inserted first. */
export function blocksOf(facts: Facts | null): { name: string; inserts: number; entities: number }[] {
  return (facts?.blocks ?? [])
    .map((b) => ({ name: b.name, inserts: b.inserts, entities: b.entities }))
    .sort((a, b) => b.inserts - a.inserts || a.name.localeCompare(b.name));
}
