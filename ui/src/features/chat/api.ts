import type {
  AgentView,
  ApiClient,
  ConversationDetail,
  ConversationPage,
  ConversationPatch,
  ConversationView,
  Download,
  EditInput,
  ExportFormat,
  FileView,
  NewConversationInput,
  SearchHit,
  SendInput,
  StreamEvent,
} from '@/lib/api';
import { parseStreamEvent } from './thread';

export const PAGE_SIZE = 50;

const path = (id: string) => `/api/conversations/${encodeURIComponent(id)}`;

export function listConversations(api: ApiClient, after: string | null, signal?: AbortSignal): Promise<ConversationPage> {
  return api.get<ConversationPage>('/api/conversations', { query: { after, limit: PAGE_SIZE }, signal });
}

export function searchConversations(api: ApiClient, q: string, signal?: AbortSignal): Promise<SearchHit[]> {
  return api.get<SearchHit[]>('/api/conversations/search', { query: { q, limit: 50 }, signal });
}

export function createConversation(api: ApiClient, input: NewConversationInput): Promise<ConversationView> {
  return api.post<ConversationView>('/api/conversations', input);
}

export function getConversation(api: ApiClient, id: string, signal?: AbortSignal): Promise<ConversationDetail> {
  return api.get<ConversationDetail>(path(id), { signal });
}

export function updateConversation(api: ApiClient, id: string, patch: ConversationPatch): Promise<ConversationView> {
  return api.patch<ConversationView>(path(id), patch);
}

export function deleteConversation(api: ApiClient, id: string): Promise<void> {
  return api.request<undefined>('DELETE', path(id));
}

export function exportConversation(api: ApiClient, id: string, format: ExportFormat): Promise<Download> {
  return api.download(`${path(id)}/export`, {
    query: { format },
    fallbackName: `conversation.${format === 'markdown' ? 'md' : 'json'}`,
  });
}

/** Stops the running answer; it ends with a `finished` event on its stream (status `stopped`). */
export function stopAnswer(api: ApiClient, id: string): Promise<void> {
  return api.request<undefined>('POST', `${path(id)}/stop`);
}

export function uploadFile(api: ApiClient, file: Blob, name: string): Promise<FileView> {
  return api.upload<FileView>('/api/files', file, { query: { name } });
}

/** The agents a conversation can be started with (any role may list them). */
export function listAgents(api: ApiClient, signal?: AbortSignal): Promise<AgentView[]> {
  return api.get<AgentView[]>('/api/agents', { signal });
}

/** What starts an answer: a new message, a regenerated answer, an edited question, or watching a running one. */
export type AnswerRequest =
  | { kind: 'send'; input: SendInput }
  | { kind: 'regenerate'; messageId: string }
  | { kind: 'edit'; messageId: string; input: EditInput }
  | { kind: 'attach' };

/**
 * Opens the answer's event stream and calls `onEvent` for each event until `finished` or the end.
 * Rejects with the API's error when the server refuses (e.g. 409: an answer is already streaming).
 */
export function streamAnswer(
  api: ApiClient,
  conversationId: string,
  request: AnswerRequest,
  onEvent: (event: StreamEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const base = path(conversationId);
  const onRaw = ({ event, data }: { event: string; data: string }) => {
    const parsed = parseStreamEvent(event, data);
    if (parsed) onEvent(parsed);
  };
  switch (request.kind) {
    case 'send':
      return api.stream(`${base}/messages`, { method: 'POST', body: request.input, onEvent: onRaw, signal });
    case 'regenerate':
      return api.stream(`${base}/messages/${encodeURIComponent(request.messageId)}/regenerate`, {
        method: 'POST',
        onEvent: onRaw,
        signal,
      });
    case 'edit':
      return api.stream(`${base}/messages/${encodeURIComponent(request.messageId)}/edit`, {
        method: 'POST',
        body: request.input,
        onEvent: onRaw,
        signal,
      });
    case 'attach':
      return api.stream(`${base}/events`, { onEvent: onRaw, signal });
  }
}
