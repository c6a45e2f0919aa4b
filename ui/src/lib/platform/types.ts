/** A file the user chose (dialog or drop). */
export interface PickedFile {
  name: string;
  /** Absolute path on this machine (desktop only). */
  path: string | null;
  /** The content: the browser's File, or the shell's `read_file` of a path the user picked (desktop). */
  read(): Promise<Blob>;
}

export interface OpenOptions {
  /** Extensions without the dot, e.g. ["dxf", "dwg"]. */
  extensions?: string[];
  multiple?: boolean;
  /** Name of the filter in the native dialog, e.g. "CAD drawings". */
  filterName?: string;
}

export interface Platform {
  kind: 'browser' | 'desktop';
  /** Lets the user choose files; resolves with none when cancelled. */
  openFiles(options?: OpenOptions): Promise<PickedFile[]>;
  /** Saves data under a name the user confirms; false when cancelled. */
  saveFile(suggestedName: string, data: Blob): Promise<boolean>;
  /** Calls `onDrop` with files dropped on `target` (browser) or on the window (desktop). */
  onFileDrop(target: HTMLElement, onDrop: (files: PickedFile[]) => void): () => void;
  /** Asks for permission to notify, if not decided yet; call from a user action. */
  requestNotifications(): Promise<boolean>;
  /** Shows a system notification when permitted; silently does nothing otherwise. */
  notify(title: string, body?: string): Promise<void>;
}

/** What the desktop shell's `desktop_launch` command returns. */
export interface DesktopLaunch {
  /** Origin of the in-process server, e.g. "http://127.0.0.1:54321". */
  api_base: string;
  /** Per-launch secret exchanged for tokens at `POST /api/auth/desktop`. */
  launch_secret: string;
}
