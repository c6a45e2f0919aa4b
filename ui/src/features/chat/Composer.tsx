import { useRef, useState, type KeyboardEvent, type SubmitEvent } from 'react';
import { describeError } from '@/components/describeError';
import { useI18n } from '@/i18n';
import { getPlatform } from '@/lib/platform';
import { formatBytes } from './format';
import type { Attachments } from './useAttachments';

interface Props {
  /** An answer is streaming: the send button becomes "stop". */
  running: boolean;
  /** A request is on its way or an answer streams: nothing new can be sent. */
  busy: boolean;
  attachments: Attachments;
  /** Resolves true when the message was taken (the text is then cleared). */
  onSend: (text: string) => Promise<boolean>;
  onStop: () => void;
}

/**
 * The message box: Enter sends, Shift+Enter starts a new line (and Enter while an input method is
 * composing Chinese text only confirms the composition). Attachments come from the button or from
 * files dropped on the conversation.
 */
export function Composer({ running, busy, attachments, onSend, onStop }: Props) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  // Some browsers end the composition before the Enter's keydown arrives: remember it ourselves too.
  const composing = useRef(false);
  const canSend = text.trim() !== '' && !busy && !attachments.uploading;

  const send = async () => {
    if (!canSend) return;
    const sent = text;
    setText('');
    const accepted = await onSend(sent.trim());
    // Refused (e.g. 409, an answer still streams): give the text back.
    if (!accepted) setText((current) => current || sent);
  };

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    void send();
  };

  const keyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing || composing.current) return;
    event.preventDefault();
    void send();
  };

  const pick = async () => {
    const files = await getPlatform().openFiles({ multiple: true });
    if (files.length > 0) attachments.add(files);
  };

  return (
    <form className="composer" onSubmit={submit} data-testid="composer">
      {attachments.files.length > 0 ? (
        <ul className="attachment-chips" aria-label={t('chat.attachments')}>
          {attachments.files.map((file) => (
            <li key={file.key} className={`chip chip-${file.state}`} data-state={file.state}>
              <span className="chip-name">{file.name}</span>
              <span className="muted small">
                {file.state === 'uploading'
                  ? t('chat.uploading')
                  : file.state === 'failed'
                    ? describeError(file.error, t)
                    : file.size !== null
                      ? formatBytes(file.size)
                      : ''}
              </span>
              <button
                type="button"
                className="chip-remove"
                aria-label={t('chat.removeAttachment', { name: file.name })}
                onClick={() => attachments.remove(file.key)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <label htmlFor="composer-text" className="sr-only">
        {t('chat.message')}
      </label>
      <textarea
        id="composer-text"
        value={text}
        rows={3}
        placeholder={t('chat.placeholder')}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={keyDown}
        onCompositionStart={() => {
          composing.current = true;
        }}
        onCompositionEnd={() => {
          // Safari sends the confirming Enter's keydown just after compositionend.
          setTimeout(() => {
            composing.current = false;
          }, 0);
        }}
        aria-describedby="composer-hint"
      />
      <div className="composer-bar">
        <span id="composer-hint" className="muted small">
          {t('chat.composerHint')}
        </span>
        <button type="button" className="button small" onClick={() => void pick()}>
          {t('chat.attach')}
        </button>
        {running ? (
          <button type="button" className="button small danger" onClick={onStop}>
            {t('chat.stop')}
          </button>
        ) : (
          <button type="submit" className="button small primary" disabled={!canSend}>
            {t('chat.send')}
          </button>
        )}
      </div>
    </form>
  );
}
