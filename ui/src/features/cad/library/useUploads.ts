import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ApiClient } from '@/lib/api';
import type { PickedFile } from '@/lib/platform';
import { uploadDrawing, type CadDrawingView } from '../api';

export const DRAWING_EXTENSIONS = ['dxf', 'dwg'];

/** A drawing on its way into the library. */
export interface Upload {
  key: number;
  name: string;
  /** Bytes sent of `size` (null until the file was read). */
  loaded: number;
  size: number | null;
  state: 'reading' | 'uploading' | 'done' | 'failed';
  /** Not a DXF or DWG by its name (refused before sending anything). */
  wrongType: boolean;
  error: unknown;
  drawing: CadDrawingView | null;
}

export function isDrawingName(name: string): boolean {
  const extension = name.split('.').pop()?.toLowerCase() ?? '';
  return name.includes('.') && DRAWING_EXTENSIONS.includes(extension);
}

/**
 * Uploads chosen or dropped files to the library one after the other (a 200 MB drawing at a time
 * is enough for a desktop's memory), with progress; `onUploaded` hears each drawing stored.
 */
export function useUploads(api: ApiClient, onUploaded: (drawing: CadDrawingView) => void) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const nextKey = useRef(1);
  const queue = useRef(Promise.resolve());
  const onUploadedRef = useRef(onUploaded);
  useEffect(() => {
    onUploadedRef.current = onUploaded;
  }, [onUploaded]);

  const update = useCallback((key: number, change: Partial<Upload>) => {
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...change } : u)));
  }, []);

  const add = useCallback(
    (files: readonly PickedFile[]) => {
      for (const file of files) {
        const key = nextKey.current++;
        const wrongType = !isDrawingName(file.name);
        setUploads((list) => [
          ...list,
          { key, name: file.name, loaded: 0, size: null, state: wrongType ? 'failed' : 'reading', wrongType, error: null, drawing: null },
        ]);
        if (wrongType) continue;
        queue.current = queue.current.then(async () => {
          try {
            const blob = await file.read();
            update(key, { size: blob.size, state: 'uploading' });
            const drawing = await uploadDrawing(api, file.name, blob, {
              onProgress: (loaded) => update(key, { loaded }),
            });
            update(key, { state: 'done', loaded: blob.size, drawing });
            onUploadedRef.current(drawing);
          } catch (error) {
            update(key, { state: 'failed', error });
          }
        });
      }
    },
    [api, update],
  );

  const dismiss = useCallback((key: number) => setUploads((list) => list.filter((u) => u.key !== key)), []);
  return useMemo(() => ({ uploads, add, dismiss }), [uploads, add, dismiss]);
}
