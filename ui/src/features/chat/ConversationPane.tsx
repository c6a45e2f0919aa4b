import { useCallback, useEffect, useLayoutEffect, useRef, useState, type SubmitEvent } from 'react';
import { ConfirmButton } from '@/components/ConfirmButton';
import { describeError } from '@/components/describeError';
import { Notice } from '@/components/Notice';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { useApi, type ConversationView, type ExportFormat } from '@/lib/api';
import { getPlatform } from '@/lib/platform';
import { deleteConversation, exportConversation, updateConversation } from './api';
import { Composer } from './Composer';
import { InteractivePanel } from './InteractivePanel';
import { MessageItem, PendingItem } from './MessageItem';
import { openInteractive } from './thread';
import { useAttachments } from './useAttachments';
import { useThread } from './useThread';

interface Props {
  conversationId: string;
  canWrite: boolean;
  /** A message to scroll to and mark (from a search hit). */
  focusMessage: string | null;
  onChanged: () => void;
  onDeleted: () => void;
}

/** One open conversation: its header and actions, the thread, the workflow's form, the composer. */
export function ConversationPane({ conversationId, canWrite, focusMessage, onChanged, onDeleted }: Props) {
  const { t } = useI18n();
  const api = useApi();
  const thread = useThread(api, conversationId, onChanged);
  const attachments = useAttachments(api);
  const paneRef = useRef<HTMLElement>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const nearBottom = useRef(true);
  const [announcement, setAnnouncement] = useState('');
  const { state, conversation, run } = thread;
  const { add: attach, ready: readyAttachments, clear: clearAttachments } = attachments;
  const form = openInteractive(state);
  const writable = canWrite && conversation !== null && conversation.agent_id !== null;

  // Files dropped anywhere on the conversation are attached to the next message.
  useEffect(() => {
    const pane = paneRef.current;
    if (!pane || !writable) return undefined;
    return getPlatform().onFileDrop(pane, (files) => attach(files));
  }, [writable, attach]);

  // Follow the answer as it grows, unless the user scrolled up to read.
  useLayoutEffect(() => {
    const box = scrollRef.current;
    if (box && nearBottom.current) box.scrollTop = box.scrollHeight;
  }, [state.messages, state.pending, form]);

  // A search hit: scroll to its message and mark it, once it is there.
  const focused = useRef<string | null>(null);
  useEffect(() => {
    if (!focusMessage || focused.current === focusMessage) return;
    const element = scrollRef.current?.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(focusMessage)}"]`);
    if (!element) return;
    focused.current = focusMessage;
    nearBottom.current = false;
    element.scrollIntoView({ block: 'center' });
    element.focus({ preventScroll: true });
  }, [focusMessage, state.messages]);

  const previousRunning = useRef<string | null>(null);
  useEffect(() => {
    if (previousRunning.current && !state.running) {
      const done = state.messages.find((m) => m.id === previousRunning.current);
      if (done) setAnnouncement(t(`chat.status.${done.status}`));
    } else if (state.running && !previousRunning.current) {
      setAnnouncement(t('chat.answering'));
    }
    previousRunning.current = state.running;
  }, [state.running, state.messages, t]);

  const send = useCallback(
    async (text: string): Promise<boolean> => {
      const files = readyAttachments();
      nearBottom.current = true;
      const accepted = await run(
        { kind: 'send', input: { text, attachments: files.map((f) => f.file_id) } },
        { text, attachments: files },
      );
      if (accepted) clearAttachments();
      return accepted;
    },
    [run, readyAttachments, clearAttachments],
  );

  const regenerate = useCallback(
    (messageId: string) => {
      nearBottom.current = true;
      void run({ kind: 'regenerate', messageId });
    },
    [run],
  );

  const edit = useCallback(
    (messageId: string, text: string) => {
      nearBottom.current = true;
      void run({ kind: 'edit', messageId, input: { text } });
    },
    [run],
  );

  const reply = useCallback(
    (text: string) => {
      nearBottom.current = true;
      void run({ kind: 'send', input: { text, interactive_reply: true } }, { text, attachments: [] });
    },
    [run],
  );

  if (thread.loadError) {
    return (
      <section className="chat-pane" aria-labelledby="chat-pane-error">
        <h1 id="chat-pane-error" tabIndex={-1} data-page-title>
          {t('chat.title')}
        </h1>
        <Notice tone="error">{describeError(thread.loadError, t)}</Notice>
        <button type="button" className="button" onClick={thread.reload}>
          {t('app.tryAgain')}
        </button>
      </section>
    );
  }

  const lastIndex = state.messages.length - 1;
  return (
    <section className="chat-pane" ref={paneRef} aria-labelledby="chat-pane-title" data-testid="chat-pane">
      <PaneHeader
        conversation={conversation}
        canWrite={canWrite}
        onChanged={(view) => {
          thread.setConversation(view);
          onChanged();
        }}
        onDeleted={onDeleted}
      />
      <div
        className="thread-scroll"
        ref={scrollRef}
        onScroll={(event) => {
          const box = event.currentTarget;
          nearBottom.current = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
        }}
      >
        {thread.loading ? <Loading label={t('app.loading')} /> : null}
        {!thread.loading && state.messages.length === 0 && !state.pending ? (
          <p className="empty">{t('chat.firstMessage')}</p>
        ) : null}
        <ol className="thread" aria-label={t('chat.messages')} data-testid="thread">
          {state.messages.map((message, index) => (
            <MessageItem
              key={message.id}
              message={message}
              agentName={conversation?.agent_name ?? ''}
              canWrite={writable}
              busy={thread.busy}
              isLast={index === lastIndex}
              highlighted={message.id === focusMessage}
              onRegenerate={regenerate}
              onEdit={edit}
            />
          ))}
          {state.pending ? <PendingItem question={state.pending} /> : null}
        </ol>
        {form?.detail.interactive && writable ? (
          <InteractivePanel
            key={form.id}
            interactive={form.detail.interactive}
            disabled={thread.busy}
            onReply={reply}
          />
        ) : null}
      </div>
      {thread.actionError ? (
        <div className="chat-action-error">
          <Notice tone="error">{describeError(thread.actionError, t)}</Notice>
        </div>
      ) : null}
      {writable ? (
        <Composer
          running={state.running !== null}
          busy={thread.busy}
          attachments={attachments}
          onSend={send}
          onStop={() => void thread.stop()}
        />
      ) : conversation ? (
        <p className="muted small chat-readonly">
          {canWrite ? t('chat.agentDeleted') : t('chat.viewerNote')}
        </p>
      ) : null}
      <div className="sr-only" role="status" aria-live="polite">
        {announcement}
      </div>
    </section>
  );
}

function PaneHeader({
  conversation,
  canWrite,
  onChanged,
  onDeleted,
}: {
  conversation: ConversationView | null;
  canWrite: boolean;
  onChanged: (conversation: ConversationView) => void;
  onDeleted: () => void;
}) {
  const { t } = useI18n();
  const api = useApi();
  const [renaming, setRenaming] = useState(false);
  const [title, setTitle] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const act = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  if (!conversation) {
    return (
      <header className="chat-pane-header">
        <h1 id="chat-pane-title" tabIndex={-1} data-page-title>
          {t('chat.title')}
        </h1>
      </header>
    );
  }
  const id = conversation.id;
  const rename = (event: SubmitEvent) => {
    event.preventDefault();
    void act(async () => {
      onChanged(await updateConversation(api, id, { title }));
      setRenaming(false);
    });
  };
  const download = (format: ExportFormat) =>
    act(async () => {
      const file = await exportConversation(api, id, format);
      await getPlatform().saveFile(file.name, file.blob);
    });

  return (
    <header className="chat-pane-header">
      {renaming ? (
        <form className="inline-form rename-form" onSubmit={rename}>
          <label htmlFor="rename-conversation" className="sr-only">
            {t('chat.renameLabel')}
          </label>
          <input
            id="rename-conversation"
            value={title}
            maxLength={200}
            autoFocus
            onChange={(event) => setTitle(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') setRenaming(false);
            }}
          />
          <button type="submit" className="button small primary" disabled={busy || !title.trim()}>
            {t('common.save')}
          </button>
          <button type="button" className="button small" onClick={() => setRenaming(false)}>
            {t('common.cancel')}
          </button>
        </form>
      ) : (
        <div className="chat-pane-heading">
          <h1 id="chat-pane-title" tabIndex={-1} data-page-title>
            {conversation.pinned ? <span className="sr-only">{t('chat.pinned')}: </span> : null}
            {conversation.title || t('chat.untitled')}
          </h1>
          <p className="muted small">{t('chat.withAgent', { agent: conversation.agent_name })}</p>
        </div>
      )}
      <div className="actions chat-pane-actions">
        {canWrite && !renaming ? (
          <>
            <button
              type="button"
              className="button small"
              onClick={() => {
                setTitle(conversation.title);
                setRenaming(true);
              }}
            >
              {t('chat.rename')}
            </button>
            <button
              type="button"
              className="button small"
              aria-pressed={conversation.pinned}
              disabled={busy}
              onClick={() => void act(async () => onChanged(await updateConversation(api, id, { pinned: !conversation.pinned })))}
            >
              {conversation.pinned ? t('chat.unpin') : t('chat.pin')}
            </button>
          </>
        ) : null}
        <button type="button" className="button small" disabled={busy} onClick={() => void download('markdown')}>
          {t('chat.exportMarkdown')}
        </button>
        <button type="button" className="button small" disabled={busy} onClick={() => void download('json')}>
          {t('chat.exportJson')}
        </button>
        {canWrite ? (
          <ConfirmButton
            question={t('chat.deleteQuestion')}
            onConfirm={() =>
              act(async () => {
                await deleteConversation(api, id);
                onDeleted();
              })
            }
          >
            {t('chat.delete')}
          </ConfirmButton>
        ) : null}
      </div>
      {error ? (
        <p className="field-error" role="alert">
          {describeError(error, t)}
        </p>
      ) : null}
    </header>
  );
}
