import type {
  AgentDiffView,
  AgentFolderStatus,
  AgentHealth,
  AgentInput,
  AgentVersionView,
  AgentView,
  ApiClient,
  Download,
  ImportReport,
  KeyStoreStatus,
  TaskView,
} from '@/lib/api';

/** The file formats agents are imported from and exported to. */
export type AgentFileFormat = 'toml' | 'json';

const path = (id: number) => `/api/agents/${id}`;

export function listAgents(api: ApiClient, signal?: AbortSignal): Promise<AgentView[]> {
  return api.get<AgentView[]>('/api/agents', { signal });
}

export function getAgent(api: ApiClient, id: number, signal?: AbortSignal): Promise<AgentView> {
  return api.get<AgentView>(path(id), { signal });
}

export function createAgent(api: ApiClient, input: AgentInput): Promise<AgentView> {
  return api.post<AgentView>('/api/agents', input);
}

/** `input.expected_version` makes a concurrent edit fail with 409 instead of overwriting it. */
export function updateAgent(api: ApiClient, id: number, input: AgentInput): Promise<AgentView> {
  return api.put<AgentView>(path(id), input);
}

export function deleteAgent(api: ApiClient, id: number): Promise<void> {
  return api.request<undefined>('DELETE', path(id));
}

export function duplicateAgent(api: ApiClient, id: number, name?: string): Promise<AgentView> {
  return api.post<AgentView>(`${path(id)}/duplicate`, name ? { name } : {});
}

/** Keys are write-only: stored in the key store, never sent back. */
export function setAgentKey(api: ApiClient, id: number, key: string): Promise<AgentView> {
  return api.put<AgentView>(`${path(id)}/key`, { key });
}

export function clearAgentKey(api: ApiClient, id: number): Promise<AgentView> {
  return api.request<AgentView>('DELETE', `${path(id)}/key`);
}

export function listVersions(api: ApiClient, id: number, signal?: AbortSignal): Promise<AgentVersionView[]> {
  return api.get<AgentVersionView[]>(`${path(id)}/versions`, { signal });
}

export function diffVersions(api: ApiClient, id: number, from: number, to: number, signal?: AbortSignal): Promise<AgentDiffView> {
  return api.get<AgentDiffView>(`${path(id)}/diff`, { query: { from, to }, signal });
}

export function restoreVersion(api: ApiClient, id: number, version: number): Promise<AgentView> {
  return api.post<AgentView>(`${path(id)}/restore`, { version });
}

export function testAgent(api: ApiClient, id: number): Promise<AgentHealth> {
  return api.post<AgentHealth>(`${path(id)}/test`);
}

/** Imports one file of agents, all or nothing; a bad file is refused with its problems (400). */
export function importAgents(api: ApiClient, name: string, text: string): Promise<ImportReport> {
  return api.upload<ImportReport>('/api/agents/import', text, { query: { name }, contentType: 'text/plain; charset=utf-8' });
}

/** The agents with `ids` (all when empty) as one file, without keys. */
export function exportAgents(api: ApiClient, format: AgentFileFormat, ids: readonly number[]): Promise<Download> {
  return api.download('/api/agents/export', {
    query: { format, ids: ids.length > 0 ? ids.join(',') : null },
    fallbackName: `agents.${format}`,
  });
}

/** The watched agents folder and the problems of its files; null when no folder is watched. */
export function folderStatus(api: ApiClient, signal?: AbortSignal): Promise<AgentFolderStatus | null> {
  return api.get<AgentFolderStatus | null>('/api/agents/folder', { signal });
}

/** Imports the FastGPT app's conversation history for the caller, as a background task. */
export function importHistory(api: ApiClient, id: number): Promise<TaskView> {
  return api.post<TaskView>(`${path(id)}/import-history`);
}

/** Where agents' keys are kept, whether keys can be stored, and why not. */
export function keyStoreStatus(api: ApiClient, signal?: AbortSignal): Promise<KeyStoreStatus> {
  return api.get<KeyStoreStatus>('/api/keystore', { signal });
}

/** Opens the encrypted key file (used where the system has no keychain). */
export function unlockKeyStore(api: ApiClient, passphrase: string): Promise<KeyStoreStatus> {
  return api.post<KeyStoreStatus>('/api/keystore/unlock', { passphrase });
}
