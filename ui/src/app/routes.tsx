import { lazy, type ReactNode } from 'react';
import { AdminView } from '@/features/admin';
import { PostersView } from '@/features/posters';
import { SettingsView } from '@/features/settings';
import { TasksView } from '@/features/tasks';
import type { MessageKey } from '@/i18n';
import type { Role } from '@/lib/api';
import { isWithin } from '@/lib/router';
import type { IconName } from './icons';

export interface AppRoute {
  path: string;
  label: MessageKey;
  icon: IconName;
  /** Hidden from the navigation below this role (the view itself checks too). */
  role: Role;
  render: () => ReactNode;
}

// The chat, agents and CAD views come with their own chunks (the Markdown renderer is a further one),
// fetched on first visit, so the start bundle holds only what sign-in and the frame need.
const ChatView = lazy(() => import('@/features/chat').then((m) => ({ default: m.ChatView })));
const AgentsView = lazy(() => import('@/features/agents').then((m) => ({ default: m.AgentsView })));
// The CAD library and viewer (WebGL, the scene decoder; its index runs in a worker of its own).
const CadView = lazy(() => import('@/features/cad').then((m) => ({ default: m.CadView })));

/** The navigation, in order. Every feature plugs in here. */
export const ROUTES: readonly AppRoute[] = [
  { path: '/chat', label: 'nav.chat', icon: 'chat', role: 'viewer', render: () => <ChatView /> },
  { path: '/cad', label: 'nav.cad', icon: 'cad', role: 'viewer', render: () => <CadView /> },
  { path: '/posters', label: 'nav.posters', icon: 'posters', role: 'viewer', render: () => <PostersView /> },
  { path: '/agents', label: 'nav.agents', icon: 'agents', role: 'viewer', render: () => <AgentsView /> },
  { path: '/tasks', label: 'nav.tasks', icon: 'tasks', role: 'viewer', render: () => <TasksView /> },
  { path: '/admin', label: 'nav.admin', icon: 'admin', role: 'admin', render: () => <AdminView /> },
  { path: '/settings', label: 'nav.settings', icon: 'settings', role: 'viewer', render: () => <SettingsView /> },
];

export const HOME = '/tasks';

/** Paths that stand for another one. */
const REDIRECTS: Record<string, string> = {
  '/': HOME,
  '/index.html': HOME,
  // The address a new server prints for its first admin; once set up, it leads home.
  '/setup': HOME,
  '/admin': '/admin/users',
};

export function redirectFor(path: string): string | null {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return REDIRECTS[trimmed] ?? (trimmed !== path ? trimmed : null);
}

export function matchRoute(path: string): AppRoute | null {
  return ROUTES.find((route) => isWithin(path, route.path)) ?? null;
}
