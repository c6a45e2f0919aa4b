import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useI18n } from '@/i18n';

interface Props {
  /** The button's text, e.g. "Delete". */
  children: ReactNode;
  /** Its accessible name when the text alone is ambiguous, e.g. "Delete the agent Helper". */
  label?: string;
  /** The question asked before acting, e.g. "Delete Helper? This cannot be undone." */
  question: string;
  /** The confirming button's text (default: the same as the button). */
  confirm?: string;
  onConfirm: () => void | Promise<void>;
  disabled?: boolean;
  className?: string;
}

/**
 * A destructive action asked for twice, in place: the button turns into the question with
 * "confirm" and "cancel" buttons (no modal, so it works by keyboard and screen reader as it is).
 */
export function ConfirmButton({ children, label, question, confirm, onConfirm, disabled, className = 'button small danger' }: Props) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) cancelRef.current?.focus();
  }, [asking]);

  if (!asking) {
    return (
      <button type="button" className={className} aria-label={label} disabled={disabled} onClick={() => setAsking(true)}>
        {children}
      </button>
    );
  }
  const act = async () => {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      setAsking(false);
    }
  };
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span className="confirm-question">{question}</span>
      <button type="button" className="button small danger" disabled={busy} onClick={() => void act()}>
        {confirm ?? children}
      </button>
      <button
        type="button"
        ref={cancelRef}
        className="button small"
        disabled={busy}
        onClick={() => setAsking(false)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') setAsking(false);
        }}
      >
        {t('common.cancel')}
      </button>
    </span>
  );
}
