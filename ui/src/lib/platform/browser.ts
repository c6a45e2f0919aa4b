import type { OpenOptions, PickedFile, Platform } from './types';

function fromFile(file: File): PickedFile {
  return { name: file.name, path: null, read: () => Promise.resolve(file) };
}

/** The browser: <input type=file>, HTML5 drag and drop, a download link, the Notification API. */
export function createBrowserPlatform(): Platform {
  return {
    kind: 'browser',

    openFiles(options: OpenOptions = {}) {
      return new Promise<PickedFile[]>((resolve) => {
        const input = document.createElement('input');
        input.type = 'file';
        input.multiple = options.multiple ?? false;
        if (options.extensions?.length) input.accept = options.extensions.map((e) => `.${e}`).join(',');
        input.style.display = 'none';
        const done = (files: PickedFile[]) => {
          input.remove();
          resolve(files);
        };
        input.addEventListener('change', () => done(Array.from(input.files ?? [], fromFile)), { once: true });
        input.addEventListener('cancel', () => done([]), { once: true });
        document.body.append(input);
        input.click();
      });
    },

    saveFile(suggestedName, data) {
      const url = URL.createObjectURL(data);
      const link = document.createElement('a');
      link.href = url;
      link.download = suggestedName;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return Promise.resolve(true);
    },

    onFileDrop(target, onDrop) {
      const over = (event: DragEvent) => {
        if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
      };
      const drop = (event: DragEvent) => {
        const files = event.dataTransfer?.files;
        if (!files?.length) return;
        event.preventDefault();
        onDrop(Array.from(files, fromFile));
      };
      target.addEventListener('dragover', over);
      target.addEventListener('drop', drop);
      return () => {
        target.removeEventListener('dragover', over);
        target.removeEventListener('drop', drop);
      };
    },

    async requestNotifications() {
      if (!('Notification' in window)) return false;
      if (Notification.permission === 'default') {
        try {
          await Notification.requestPermission();
        } catch {
          return false;
        }
      }
      return Notification.permission === 'granted';
    },

    notify(title, body) {
      if ('Notification' in window && Notification.permission === 'granted') {
        try {
          new Notification(title, { body });
        } catch {
          // Some browsers allow notifications only from a service worker: nothing to do then.
        }
      }
      return Promise.resolve();
    },
  };
}
