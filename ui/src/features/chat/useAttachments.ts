import { useCallback, useMemo, useRef, useState } from 'react';
import type { ApiClient, Attachment } from '@/lib/api';
import type { PickedFile } from '@/lib/platform';
import { uploadFile } from './api';

/** A file on its way to the next message. */
export interface PendingFile {
  key: number;
  name: string;
  size: number | null;
  state: 'uploading' | 'ready' | 'failed';
  attachment: Attachment | null;
  error: unknown;
}

export interface Attachments {
  files: readonly PendingFile[];
  uploading: boolean;
  /** Uploads the files (dialog or drop) to `/api/files` at once. */
  add: (files: readonly PickedFile[]) => void;
  remove: (key: number) => void;
  /** The uploaded files, for the message. */
  ready: () => Attachment[];
  clear: () => void;
}

/** The composer's attachments: uploaded as soon as they are chosen, sent by id with the message. */
export function useAttachments(api: ApiClient): Attachments {
  const [files, setFiles] = useState<PendingFile[]>([]);
  const filesRef = useRef<PendingFile[]>(files);
  const nextKey = useRef(1);

  const update = useCallback((change: (files: PendingFile[]) => PendingFile[]) => {
    setFiles((previous) => {
      const next = change(previous);
      filesRef.current = next;
      return next;
    });
  }, []);

  const add = useCallback(
    (picked: readonly PickedFile[]) => {
      for (const file of picked) {
        const key = nextKey.current++;
        update((list) => [...list, { key, name: file.name, size: null, state: 'uploading', attachment: null, error: null }]);
        void (async () => {
          try {
            const blob = await file.read();
            update((list) => list.map((f) => (f.key === key ? { ...f, size: blob.size } : f)));
            const view = await uploadFile(api, blob, file.name);
            const attachment: Attachment = { file_id: view.id, name: view.name, media_type: view.media_type, size: view.size };
            update((list) => list.map((f) => (f.key === key ? { ...f, state: 'ready', attachment } : f)));
          } catch (error) {
            update((list) => list.map((f) => (f.key === key ? { ...f, state: 'failed', error } : f)));
          }
        })();
      }
    },
    [api, update],
  );

  const remove = useCallback((key: number) => update((list) => list.filter((f) => f.key !== key)), [update]);
  const ready = useCallback(
    () => filesRef.current.flatMap((f) => (f.state === 'ready' && f.attachment ? [f.attachment] : [])),
    [],
  );
  const clear = useCallback(() => update(() => []), [update]);

  return useMemo(
    () => ({ files, uploading: files.some((f) => f.state === 'uploading'), add, remove, ready, clear }),
    [files, add, remove, ready, clear],
  );
}
