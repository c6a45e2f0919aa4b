import { NotAllowed } from '@/components/NotAllowed';
import { usePath } from '@/lib/router';
import { roleAtLeast, useUser } from '@/lib/session';
import { AgentEditor } from './AgentEditor';
import { AgentHistory } from './AgentHistory';
import { AgentList } from './AgentList';

export type AgentPage = { page: 'list' } | { page: 'new' } | { page: 'edit'; id: number } | { page: 'history'; id: number } | { page: 'unknown' };

/** `/agents`, `/agents/new`, `/agents/<id>`, `/agents/<id>/history`. */
export function agentPage(path: string): AgentPage {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '/agents') return { page: 'list' };
  if (trimmed === '/agents/new') return { page: 'new' };
  const match = /^\/agents\/(\d+)(\/history)?$/.exec(trimmed);
  if (!match) return { page: 'unknown' };
  const id = Number(match[1]);
  return match[2] ? { page: 'history', id } : { page: 'edit', id };
}

/** Agents: everyone sees the list; admins create, edit, import, export, test and restore them. */
export function AgentsView() {
  const user = useUser();
  const path = usePath();
  const admin = roleAtLeast(user.role, 'admin');
  const page = agentPage(path);
  if (page.page === 'list' || page.page === 'unknown') {
    return <AgentList admin={admin} canImportHistory={roleAtLeast(user.role, 'designer')} />;
  }
  if (!admin) return <NotAllowed needed="admin" />;
  if (page.page === 'new') return <AgentEditor key="new" id={null} />;
  if (page.page === 'edit') return <AgentEditor key={page.id} id={page.id} />;
  return <AgentHistory key={page.id} id={page.id} />;
}
