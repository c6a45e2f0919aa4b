import type { ApiClient, AuditView, NewAccount, UserPatch, UserView } from '@/lib/api';

export function listUsers(api: ApiClient, signal?: AbortSignal): Promise<UserView[]> {
  return api.get<UserView[]>('/api/users', { signal });
}

export function createUser(api: ApiClient, user: NewAccount): Promise<UserView> {
  return api.post<UserView>('/api/users', user);
}

/** Changes only what `change` names; the rest is sent as null ("leave as it is"). */
export function updateUser(api: ApiClient, id: number, change: Partial<UserPatch>): Promise<UserView> {
  const patch: UserPatch = { role: null, disabled: null, display_name: null, ...change };
  return api.patch<UserView>(`/api/users/${id}`, patch);
}

export const AUDIT_PAGE = 50;

/** The audit log, newest first; `action` keeps one action (e.g. "auth.login"), `before` pages back by id. */
export function listAudit(
  api: ApiClient,
  params: { action?: string; before?: number | null },
  signal?: AbortSignal,
): Promise<AuditView[]> {
  return api.get<AuditView[]>('/api/admin/audit', {
    query: { kind: params.action?.trim(), before: params.before, limit: AUDIT_PAGE },
    signal,
  });
}
