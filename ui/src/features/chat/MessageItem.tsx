import { memo, useState } from 'react';
import { describeError } from '@/components/describeError';
import { Markdown } from '@/components/markdown/Markdown';
import { useI18n } from '@/i18n';
import { useApi, type Attachment, type MessageView } from '@/lib/api';
import { getPlatform } from '@/lib/platform';
import { AnswerDetail } from './AnswerDetail';
import { copyText } from './clipboard';
import { formatBytes, formatMs } from './format';
import { ClipGlyph } from './glyphs';
import type { PendingQuestion } from './thread';

interface Props {
  message: MessageView;
  agentName: string;
  canWrite: boolean;
  /** Something streams or is being sent: no new regenerate or edit now. */
  busy: boolean;
  isLast: boolean;
  highlighted: boolean;
  onRegenerate: (messageId: string) => void;
  onEdit: (messageId: string, text: string) => void;
}

/**
 * One message. Memoised: while an answer streams only that answer's object changes (see the
 * thread reducer), so the other messages do not render again.
 */
export const MessageItem = memo(function MessageItem(props: Props) {
  return props.message.role === 'user' ? <Question {...props} /> : <Answer {...props} />;
});

function Question({ message, canWrite, busy, highlighted, onEdit }: Props) {
  const { t } = useI18n();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.text);
  const editId = `edit-${message.id}`;

  return (
    <li
      className={`message message-user${highlighted ? ' message-highlighted' : ''}`}
      data-message-id={message.id}
      data-role="user"
      tabIndex={-1}
      aria-label={t('chat.you')}
    >
      {editing ? (
        <form
          className="message-edit"
          onSubmit={(event) => {
            event.preventDefault();
            if (!draft.trim()) return;
            setEditing(false);
            onEdit(message.id, draft.trim());
          }}
        >
          <label htmlFor={editId} className="sr-only">
            {t('chat.editLabel')}
          </label>
          <textarea
            id={editId}
            value={draft}
            rows={3}
            autoFocus
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') setEditing(false);
            }}
          />
          <div className="actions">
            <button type="submit" className="button small primary" disabled={!draft.trim()}>
              {t('chat.saveAndResend')}
            </button>
            <button type="button" className="button small" onClick={() => setEditing(false)}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      ) : (
        <div className="bubble">
          {message.interactive_reply ? <span className="badge badge-info">{t('chat.formAnswer')}</span> : null}
          <p className="question-text">{message.text}</p>
          <AttachmentList attachments={message.attachments} />
        </div>
      )}
      {!editing ? (
        <div className="message-actions">
          <CopyButton text={message.text} />
          {canWrite && !message.interactive_reply ? (
            <button
              type="button"
              className="link-button"
              disabled={busy}
              onClick={() => {
                setDraft(message.text);
                setEditing(true);
              }}
            >
              {t('chat.edit')}
            </button>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

function Answer({ message, agentName, canWrite, busy, highlighted, onRegenerate }: Props) {
  const { t } = useI18n();
  const streaming = message.status === 'streaming';
  const retry = message.status === 'interrupted' || message.status === 'failed';
  const empty = message.text === '' && !message.detail.interactive;

  return (
    <li
      className={`message message-assistant${highlighted ? ' message-highlighted' : ''}`}
      data-message-id={message.id}
      data-role="assistant"
      data-status={message.status}
      tabIndex={-1}
      aria-label={agentName}
      aria-busy={streaming}
    >
      <div className="message-head">
        <span className="message-author">{agentName}</span>
        {message.status !== 'complete' ? (
          <span className={`badge status-${message.status}`} data-testid="message-status">
            {t(`chat.status.${message.status}`)}
          </span>
        ) : null}
      </div>
      <AnswerDetail message={message} />
      {message.text ? <Markdown text={message.text} /> : null}
      {streaming && empty ? (
        <p className="typing" aria-label={t('chat.answering')}>
          <span />
          <span />
          <span />
        </p>
      ) : null}
      {message.status === 'stopped' && empty ? <p className="muted small">{t('chat.stoppedEmpty')}</p> : null}
      {message.error ? (
        <div className="message-error" role="alert">
          <p>{message.error.message}</p>
          <p className="muted small">
            <code>{message.error.code}</code>
          </p>
        </div>
      ) : null}
      {!streaming ? (
        <div className="message-actions">
          {message.text ? <CopyButton text={message.text} /> : null}
          {canWrite ? (
            <button
              type="button"
              className={retry ? 'button small primary' : 'link-button'}
              disabled={busy}
              onClick={() => onRegenerate(message.id)}
            >
              {retry ? t('chat.retry') : t('chat.regenerate')}
            </button>
          ) : null}
          <Timings message={message} />
        </div>
      ) : null}
    </li>
  );
}

function Timings({ message }: { message: MessageView }) {
  const { t } = useI18n();
  const parts: string[] = [];
  if (message.first_token_ms !== null) parts.push(t('chat.firstToken', { time: formatMs(message.first_token_ms) }));
  if (message.total_ms !== null) parts.push(t('chat.total', { time: formatMs(message.total_ms) }));
  if (parts.length === 0) return null;
  return <span className="message-timings muted small">{parts.join(' · ')}</span>;
}

function CopyButton({ text }: { text: string }) {
  const { t } = useI18n();
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      className="link-button"
      onClick={() => {
        copyText(text).then(
          () => setState('copied'),
          () => setState('failed'),
        );
        setTimeout(() => setState('idle'), 2000);
      }}
    >
      {state === 'copied' ? t('chat.copied') : state === 'failed' ? t('chat.copyFailed') : t('chat.copy')}
    </button>
  );
}

function AttachmentList({ attachments }: { attachments: readonly Attachment[] }) {
  const { t } = useI18n();
  const api = useApi();
  const [error, setError] = useState<unknown>(null);
  if (attachments.length === 0) return null;
  const download = async (file: Attachment) => {
    try {
      const got = await api.download(`/api/files/${encodeURIComponent(file.file_id)}/content`, { fallbackName: file.name });
      await getPlatform().saveFile(file.name, got.blob);
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <>
      <ul className="attachment-list" aria-label={t('chat.attachments')}>
        {attachments.map((file) => (
          <li key={file.file_id}>
            <button type="button" className="link-button" onClick={() => void download(file)}>
              <ClipGlyph /> {file.name}
            </button>{' '}
            <span className="muted small">{formatBytes(file.size)}</span>
          </li>
        ))}
      </ul>
      {error ? <p className="field-error">{describeError(error, t)}</p> : null}
    </>
  );
}

/** The question just sent, until the server confirms it with `started`. */
export function PendingItem({ question }: { question: PendingQuestion }) {
  const { t } = useI18n();
  return (
    <li className="message message-user message-pending" data-role="user" aria-label={t('chat.you')}>
      <div className="bubble">
        <p className="question-text">{question.text}</p>
        <AttachmentList attachments={question.attachments} />
      </div>
      <p className="muted small">{t('chat.sending')}</p>
    </li>
  );
}
