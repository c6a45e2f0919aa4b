import { useState, type SubmitEvent } from 'react';
import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { useApi, type AgentView, type ConversationPage, type ConversationView, type SearchHit } from '@/lib/api';
import { useAsync, type AsyncState } from '@/lib/hooks/useAsync';
import { useDebounced } from '@/lib/hooks/useDebounced';
import { Link } from '@/lib/router';
import { createConversation, listConversations, searchConversations } from './api';
import { PinGlyph } from './glyphs';
import { splitMatches } from './highlight';

interface Props {
  selected: string | null;
  agents: readonly AgentView[];
  agentsError: unknown;
  canWrite: boolean;
  /** Changes when the list should be read again. */
  version: number;
  onOpen: (id: string, messageId?: string | null) => void;
}

/** The user's conversations (pinned first, then recent), a search over all of them, and "new conversation". */
export function ConversationList({ selected, agents, agentsError, canWrite, version, onOpen }: Props) {
  const { t } = useI18n();
  const api = useApi();
  const [query, setQuery] = useState('');
  const search = useDebounced(query.trim(), 300);
  const first = useAsync((signal) => listConversations(api, null, signal), [api, version]);
  // Pages after the first, read with "load more"; they belong to the first page they followed.
  const [olderPages, setOlder] = useState<{ after: ConversationPage; items: ConversationView[]; next: string | null } | null>(null);
  const [olderError, setOlderError] = useState<unknown>(null);
  const hits = useAsync(
    (signal) => (search ? searchConversations(api, search, signal) : Promise.resolve(null)),
    [api, search, version],
  );

  // A fresh first page replaces the older pages read before.
  const older = olderPages && olderPages.after === first.data ? olderPages : null;
  const items = [...(first.data?.items ?? []), ...(older?.items ?? [])];
  const next = older ? older.next : (first.data?.next ?? null);

  const loadMore = async () => {
    if (!next) return;
    try {
      const base = first.data;
      if (!base) return;
      const page = await listConversations(api, next);
      setOlder({ after: base, items: [...(older?.items ?? []), ...page.items], next: page.next });
      setOlderError(null);
    } catch (error) {
      setOlderError(error);
    }
  };

  return (
    <aside className="chat-list" aria-labelledby="chat-list-title">
      <h2 id="chat-list-title" className="sr-only">
        {t('chat.conversations')}
      </h2>
      {canWrite ? <NewConversation agents={agents} agentsError={agentsError} onCreated={(c) => onOpen(c.id)} /> : null}
      <form role="search" className="chat-search" onSubmit={(event) => event.preventDefault()}>
        <label htmlFor="chat-search" className="sr-only">
          {t('chat.search')}
        </label>
        <input
          id="chat-search"
          type="search"
          value={query}
          placeholder={t('chat.searchPlaceholder')}
          onChange={(event) => setQuery(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Escape') setQuery('');
          }}
        />
      </form>
      {search ? (
        <SearchResults query={search} state={hits} onOpen={onOpen} />
      ) : (
        <>
          {first.status === 'error' ? <Notice tone="error">{describeError(first.error, t)}</Notice> : null}
          {first.status === 'loading' && !first.data ? <Loading label={t('app.loading')} /> : null}
          {first.data && items.length === 0 ? <p className="empty">{t('chat.noConversations')}</p> : null}
          {items.length > 0 ? (
            <ul className="conversation-list" data-testid="conversation-list">
              {items.map((conversation) => (
                <li key={conversation.id}>
                  <Link
                    to={`/chat/${encodeURIComponent(conversation.id)}`}
                    className="conversation-link"
                    aria-current={conversation.id === selected ? 'page' : undefined}
                    data-conversation-id={conversation.id}
                  >
                    <span className="conversation-title">
                      {conversation.pinned ? (
                        <span className="pin-mark" title={t('chat.pinned')}>
                          <PinGlyph />
                          <span className="sr-only">{t('chat.pinned')}: </span>
                        </span>
                      ) : null}
                      {conversation.title || t('chat.untitled')}
                    </span>
                    <span className="conversation-meta muted small">
                      {conversation.agent_name}
                      {conversation.preview ? ` · ${conversation.preview}` : ''}
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          ) : null}
          {olderError ? <Notice tone="error">{describeError(olderError, t)}</Notice> : null}
          {next ? (
            <button type="button" className="button small" onClick={() => void loadMore()}>
              {t('chat.loadMore')}
            </button>
          ) : null}
        </>
      )}
    </aside>
  );
}

function SearchResults({
  query,
  state,
  onOpen,
}: {
  query: string;
  state: AsyncState<SearchHit[] | null>;
  onOpen: (id: string, messageId?: string | null) => void;
}) {
  const { t, formatDateTime } = useI18n();
  if (state.status === 'error') return <Notice tone="error">{describeError(state.error, t)}</Notice>;
  if (!state.data) return <Loading label={t('chat.searching')} />;
  const hits = state.data;
  return (
    <div className="search-results" aria-busy={state.status === 'loading'}>
      <p className="muted small" role="status">
        {t('chat.searchCount', { n: hits.length, query })}
      </p>
      {hits.length > 0 ? (
        <ul className="conversation-list" data-testid="search-results">
          {hits.map((hit) => (
            <li key={`${hit.conversation_id}/${hit.message_id ?? 'title'}`}>
              <button
                type="button"
                className="conversation-link search-hit"
                onClick={() => onOpen(hit.conversation_id, hit.message_id)}
              >
                <span className="conversation-title">{hit.title || t('chat.untitled')}</span>
                <span className="search-snippet small">
                  {splitMatches(hit.snippet, query).map((part, i) =>
                    part.match ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>,
                  )}
                </span>
                <span className="conversation-meta muted small">
                  {hit.agent_name} · {formatDateTime(hit.at)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function NewConversation({
  agents,
  agentsError,
  onCreated,
}: {
  agents: readonly AgentView[];
  agentsError: unknown;
  onCreated: (conversation: ConversationView) => void;
}) {
  const { t } = useI18n();
  const api = useApi();
  const usable = agents.filter((agent) => agent.spec.enabled);
  const [agentId, setAgentId] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const chosen = usable.find((agent) => agent.id === agentId) ?? usable[0];

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (!chosen) return;
    setBusy(true);
    setError(null);
    try {
      onCreated(await createConversation(api, { agent_id: chosen.id }));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (agentsError) return <Notice tone="error">{describeError(agentsError, t)}</Notice>;
  if (usable.length === 0) {
    return (
      <p className="muted small" data-testid="no-agents">
        {t('chat.noAgents')} <Link to="/agents">{t('chat.toAgents')}</Link>
      </p>
    );
  }
  return (
    <form className="new-conversation" onSubmit={(event) => void submit(event)}>
      <label htmlFor="new-conversation-agent" className="small">
        {t('chat.agent')}
      </label>
      <div className="inline-form">
        <select
          id="new-conversation-agent"
          value={chosen?.id ?? ''}
          onChange={(event) => setAgentId(Number(event.target.value))}
        >
          {usable.map((agent) => (
            <option key={agent.id} value={agent.id}>
              {agent.spec.name}
            </option>
          ))}
        </select>
        <button type="submit" className="button small primary" disabled={busy}>
          {t('chat.new')}
        </button>
      </div>
      {error ? <p className="field-error">{describeError(error, t)}</p> : null}
    </form>
  );
}
