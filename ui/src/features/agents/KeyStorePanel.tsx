import { useState, type SubmitEvent } from 'react';
import { describeError } from '@/components/describeError';
import { TextField } from '@/components/Field';
import { Notice } from '@/components/Notice';
import { useI18n, type MessageKey } from '@/i18n';
import { useApi, type KeyStoreStatus } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { keyStoreStatus, unlockKeyStore } from './api';

const backendLabel: Record<KeyStoreStatus['backend'], MessageKey> = {
  keychain: 'agents.keyStoreKeychain',
  encrypted_file: 'agents.keyStoreFile',
  environment: 'agents.keyStoreEnvironment',
};

/** Where agents' API keys are kept; when the key file is locked, a form to open it. */
export function KeyStorePanel() {
  const { t } = useI18n();
  const api = useApi();
  const status = useAsync((signal) => keyStoreStatus(api, signal), [api]);
  const [passphrase, setPassphrase] = useState('');
  const [unlocking, setUnlocking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (status.status === 'error') return <Notice tone="error">{describeError(status.error, t)}</Notice>;
  if (!status.data) return null;
  const store = status.data;
  const usable = store.available && !store.locked;

  async function unlock(event: SubmitEvent) {
    event.preventDefault();
    setUnlocking(true);
    setError(null);
    try {
      await unlockKeyStore(api, passphrase);
      setPassphrase('');
      status.reload();
    } catch (caught) {
      setError(caught);
    } finally {
      setUnlocking(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="agents-keystore-title" data-testid="agents-keystore">
      <div className="toolbar">
        <h2 id="agents-keystore-title" className="panel-title">
          {t('agents.keyStore')}
        </h2>
        <span className={`badge ${usable ? 'state-succeeded' : 'state-failed'}`}>{t(backendLabel[store.backend])}</span>
      </div>
      <p className="small">{usable ? t('agents.keyStoreOk') : t('agents.keyStoreUnusable')}</p>
      {store.reason ? <p className="muted small">{store.reason}</p> : null}
      {store.locked ? (
        <form className="inline-form" onSubmit={(event) => void unlock(event)}>
          <TextField
            label={t('agents.keyStorePassphrase')}
            type="password"
            autoComplete="current-password"
            value={passphrase}
            onChange={(event) => setPassphrase(event.target.value)}
            required
          />
          <button type="submit" className="button" disabled={unlocking || passphrase === ''}>
            {t('agents.keyStoreUnlock')}
          </button>
        </form>
      ) : null}
      {error ? <Notice tone="error">{describeError(error, t)}</Notice> : null}
    </section>
  );
}
