import type { DesktopLaunch, OpenOptions, PickedFile, Platform } from './types';

// The Tauri modules are imported on demand, so the browser build never loads them.

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

function fromPath(path: string): PickedFile {
  return {
    name: baseName(path),
    path,
    // The shell reads only paths the user has just picked or dropped (no filesystem permission).
    read: async () => {
      const { invoke } = await import('@tauri-apps/api/core');
      return new Blob([await invoke<ArrayBuffer>('read_file', { path })]);
    },
  };
}

/** Asks the desktop shell where its in-process server listens and for this launch's secret. */
export async function desktopLaunch(): Promise<DesktopLaunch> {
  const { invoke } = await import('@tauri-apps/api/core');
  const launch = await invoke<unknown>('desktop_launch');
  if (typeof launch !== 'object' || launch === null) throw new Error('desktop_launch returned no object');
  const { api_base, launch_secret } = launch as Record<string, unknown>;
  if (typeof api_base !== 'string' || typeof launch_secret !== 'string') {
    throw new Error('desktop_launch returned an object without api_base and launch_secret strings');
  }
  return { api_base, launch_secret };
}

/** The Tauri window: native dialogs, OS drag and drop of files, system notifications. */
export function createDesktopPlatform(): Platform {
  return {
    kind: 'desktop',

    async openFiles(options: OpenOptions = {}) {
      const { open } = await import('@tauri-apps/plugin-dialog');
      const chosen = await open({
        multiple: options.multiple ?? false,
        directory: false,
        filters: options.extensions?.length
          ? [{ name: options.filterName ?? options.extensions.join(', '), extensions: options.extensions }]
          : undefined,
      });
      if (chosen === null) return [];
      return (Array.isArray(chosen) ? chosen : [chosen]).map(fromPath);
    },

    async saveFile(suggestedName, data) {
      const { save } = await import('@tauri-apps/plugin-dialog');
      const path = await save({ defaultPath: suggestedName });
      if (path === null) return false;
      // Writing needs no broad filesystem permission: the shell's `save_file` command writes only
      // the path the user has just chosen in its own dialog.
      const { invoke } = await import('@tauri-apps/api/core');
      await invoke('save_file', { path, bytes: Array.from(new Uint8Array(await data.arrayBuffer())) });
      return true;
    },

    onFileDrop(_target, onDrop) {
      let stop: (() => void) | null = null;
      let stopped = false;
      void import('@tauri-apps/api/webview').then(async ({ getCurrentWebview }) => {
        const unlisten = await getCurrentWebview().onDragDropEvent((event) => {
          if (event.payload.type === 'drop' && event.payload.paths.length > 0) {
            onDrop(event.payload.paths.map(fromPath));
          }
        });
        if (stopped) unlisten();
        else stop = unlisten;
      });
      return () => {
        stopped = true;
        stop?.();
      };
    },

    async requestNotifications() {
      const { isPermissionGranted, requestPermission } = await import('@tauri-apps/plugin-notification');
      if (await isPermissionGranted()) return true;
      return (await requestPermission()) === 'granted';
    },

    async notify(title, body) {
      const { isPermissionGranted, sendNotification } = await import('@tauri-apps/plugin-notification');
      if (await isPermissionGranted()) sendNotification({ title, body });
    },
  };
}
