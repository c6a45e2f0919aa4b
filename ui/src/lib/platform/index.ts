import { createBrowserPlatform } from './browser';
import { createDesktopPlatform } from './desktop';
import type { Platform } from './types';

export type { DesktopLaunch, PickedFile, OpenOptions, Platform } from './types';
export { desktopLaunch } from './desktop';

/** True inside the Tauri window (its IPC bridge is injected before the page's scripts run). */
export function isDesktop(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

let platform: Platform | null = null;

/** The native abilities of where the UI runs: the desktop shell's plugins, or the browser's APIs. */
export function getPlatform(): Platform {
  platform ??= isDesktop() ? createDesktopPlatform() : createBrowserPlatform();
  return platform;
}
