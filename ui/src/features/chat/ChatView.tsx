import { useCallback, useState } from 'react';
import { useI18n } from '@/i18n';
import { useApi } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { navigate, usePath } from '@/lib/router';
import { roleAtLeast, useUser } from '@/lib/session';
import { listAgents } from './api';
import { ConversationList } from './ConversationList';
import { ConversationPane } from './ConversationPane';

/** `/chat/<id>` → the conversation's id. */
export function conversationIdOf(path: string): string | null {
  const match = /^\/chat\/([^/]+)\/?$/.exec(path);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

/** Conversations with the agents: the list (with search) beside the open conversation. */
export function ChatView() {
  const { t } = useI18n();
  const api = useApi();
  const user = useUser();
  const path = usePath();
  const canWrite = roleAtLeast(user.role, 'designer');
  const selected = conversationIdOf(path);
  const agents = useAsync((signal) => listAgents(api, signal), [api]);
  // Bumped when a conversation changes (an answer finished, renamed, pinned…): the list reads again.
  const [listVersion, setListVersion] = useState(0);
  // The message a search hit points at, shown once the conversation is open.
  const [focus, setFocus] = useState<{ conversation: string; message: string } | null>(null);

  const refreshList = useCallback(() => setListVersion((n) => n + 1), []);
  const open = useCallback((id: string, messageId?: string | null) => {
    setFocus(messageId ? { conversation: id, message: messageId } : null);
    navigate(`/chat/${encodeURIComponent(id)}`);
  }, []);
  const closed = useCallback(() => {
    refreshList();
    navigate('/chat');
  }, [refreshList]);

  return (
    <div className="chat-view">
      <div className="chat-layout">
        <ConversationList
          selected={selected}
          agents={agents.data ?? []}
          agentsError={agents.error}
          canWrite={canWrite}
          version={listVersion}
          onOpen={open}
        />
        {selected ? (
          <ConversationPane
            key={selected}
            conversationId={selected}
            canWrite={canWrite}
            focusMessage={focus?.conversation === selected ? focus.message : null}
            onChanged={refreshList}
            onDeleted={closed}
          />
        ) : (
          <section className="chat-pane chat-empty" aria-labelledby="chat-empty-title">
            <h1 id="chat-empty-title" tabIndex={-1} data-page-title>
              {t('chat.title')}
            </h1>
            <p>{t('chat.empty.title')}</p>
            <p className="muted">{canWrite ? t('chat.empty.body') : t('chat.viewerNote')}</p>
          </section>
        )}
      </div>
    </div>
  );
}
