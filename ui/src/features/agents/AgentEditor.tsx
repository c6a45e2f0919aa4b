import { useEffect, useRef, useState, type SubmitEvent } from 'react';
import { describeError } from '@/components/describeError';
import { CheckboxField, SelectField, TextAreaField, TextField } from '@/components/Field';
import { Notice } from '@/components/Notice';
import { PageHeader } from '@/components/PageHeader';
import { Loading } from '@/components/Spinner';
import { useI18n } from '@/i18n';
import { ApiError, useApi, type AgentKind, type AgentView, type ProviderKind } from '@/lib/api';
import { useAsync } from '@/lib/hooks/useAsync';
import { Link, navigate } from '@/lib/router';
import { clearAgentKey, createAgent, getAgent, updateAgent } from './api';
import { NEW_AGENT, formFromSpec, problemsFrom, specFromForm, type AgentField, type AgentForm } from './editorForm';
import { clearFlash, peekFlash, setFlash } from './flash';
import { keyStateLabel } from './labels';

const KINDS: readonly AgentKind[] = ['chat', 'poster', 'cad'];
const PROVIDERS: readonly ProviderKind[] = ['fastgpt', 'openai'];

/** Create (`id` null) or edit an agent. The stored agent is read first; edits name its version. */
export function AgentEditor({ id }: { id: number | null }) {
  const { t } = useI18n();
  const api = useApi();
  const loaded = useAsync((signal) => (id === null ? Promise.resolve(null) : getAgent(api, id, signal)), [api, id]);

  if (id !== null && loaded.status === 'error') {
    return (
      <div>
        <PageHeader title={t('agents.editTitle')} />
        <Notice tone="error">{describeError(loaded.error, t)}</Notice>
        <Link to="/agents" className="button">
          {t('agents.back')}
        </Link>
      </div>
    );
  }
  if (id !== null && !loaded.data) return <Loading label={t('app.loading')} />;
  // A new version read from the server starts the form afresh.
  return <EditorForm key={loaded.data?.version ?? 'new'} agent={loaded.data ?? null} onReload={loaded.reload} />;
}

function EditorForm({ agent: loaded, onReload }: { agent: AgentView | null; onReload: () => void }) {
  const { t } = useI18n();
  const api = useApi();
  // The agent as last saved here (the server answers each save with it).
  const [agent, setAgent] = useState(loaded);
  const [form, setForm] = useState<AgentForm>(() => (agent ? formFromSpec(agent.spec) : NEW_AGENT));
  const [errors, setErrors] = useState<Partial<Record<AgentField, string>>>({});
  const [other, setOther] = useState<string[]>([]);
  const [notice, setNotice] = useState<{ tone: 'success' | 'error'; text: string; stale?: boolean } | null>(() => {
    const flash = peekFlash();
    return flash ? { tone: 'success', text: flash } : null;
  });
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(clearFlash, []);
  // After a refused save, the first field with a problem takes the focus (and scrolls into view).
  const [refusals, setRefusals] = useState(0);
  useEffect(() => {
    if (refusals > 0) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [refusals]);

  const set = <K extends AgentField>(field: K, value: AgentForm[K]) => setForm((previous) => ({ ...previous, [field]: value }));
  const text = (field: AgentField) => ({
    value: form[field] as string,
    error: errors[field],
    onChange: (event: { target: { value: string } }) => set(field, event.target.value as never),
  });

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setNotice(null);
    setOther([]);
    const checked = specFromForm(form);
    if (!checked.spec) {
      setErrors(Object.fromEntries(Object.entries(checked.problems).map(([field, key]) => [field, t(key)])));
      setRefusals((n) => n + 1);
      return;
    }
    setErrors({});
    setBusy(true);
    const apiKey = form.api_key.trim() || undefined;
    try {
      if (agent) {
        const saved = await updateAgent(api, agent.id, { spec: checked.spec, api_key: apiKey, expected_version: agent.version });
        setAgent(saved);
        setForm(formFromSpec(saved.spec));
        setNotice({ tone: 'success', text: t('agents.savedVersion', { name: saved.spec.name, n: saved.version }) });
      } else {
        const created = await createAgent(api, { spec: checked.spec, api_key: apiKey });
        setFlash(t('agents.created', { name: created.spec.name }));
        navigate(`/agents/${created.id}`);
      }
    } catch (error) {
      const problems = problemsFrom(error);
      if (problems) {
        setErrors(problems.fields);
        setOther(problems.other);
        setRefusals((n) => n + 1);
        setNotice({ tone: 'error', text: t('agents.form.problems') });
      } else if (agent && error instanceof ApiError && error.status === 409) {
        setNotice({ tone: 'error', text: t('agents.form.stale'), stale: true });
      } else {
        setNotice({ tone: 'error', text: describeError(error, t) });
      }
    } finally {
      setBusy(false);
    }
  };

  const removeKey = async () => {
    if (!agent) return;
    setBusy(true);
    try {
      setAgent(await clearAgentKey(api, agent.id));
      setNotice({ tone: 'success', text: t('agents.keyRemoved') });
    } catch (error) {
      setNotice({ tone: 'error', text: describeError(error, t) });
    } finally {
      setBusy(false);
    }
  };

  const title = agent ? t('agents.editTitleOf', { name: agent.spec.name }) : t('agents.newTitle');
  return (
    <div className="agent-editor">
      <PageHeader
        title={title}
        intro={agent ? t('agents.editIntro', { n: agent.version }) : t('agents.newIntro')}
        actions={
          <div className="actions">
            {agent ? (
              <Link to={`/agents/${agent.id}/history`} className="button">
                {t('agents.history')}
              </Link>
            ) : null}
            <Link to="/agents" className="button">
              {t('agents.back')}
            </Link>
          </div>
        }
      />
      {notice ? (
        <Notice tone={notice.tone}>
          {notice.text}{' '}
          {notice.stale ? (
            <button type="button" className="button small" onClick={onReload}>
              {t('agents.form.reload')}
            </button>
          ) : null}
        </Notice>
      ) : null}
      {other.length > 0 ? (
        <ul className="problem-list" data-testid="other-problems">
          {other.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      ) : null}
      <form ref={formRef} className="panel" noValidate onSubmit={(event) => void submit(event)} data-testid="agent-form" aria-label={title}>
        <fieldset className="form-section">
          <legend>{t('agents.form.basics')}</legend>
          <div className="form-grid">
            <TextField label={t('agents.form.name')} name="agent-name" required autoComplete="off" {...text('name')} />
            <SelectField
              label={t('agents.kind')}
              name="agent-kind"
              value={form.kind}
              error={errors.kind}
              onChange={(event) => set('kind', event.target.value as AgentKind)}
            >
              {KINDS.map((kind) => (
                <option key={kind} value={kind}>
                  {t(`agents.kind.${kind}`)}
                </option>
              ))}
            </SelectField>
            <SelectField
              label={t('agents.provider')}
              name="agent-provider"
              value={form.provider}
              error={errors.provider}
              onChange={(event) => set('provider', event.target.value as ProviderKind)}
            >
              {PROVIDERS.map((provider) => (
                <option key={provider} value={provider}>
                  {t(`agents.provider.${provider}`)}
                </option>
              ))}
            </SelectField>
          </div>
          <TextField label={t('agents.form.description')} name="agent-description" autoComplete="off" {...text('description')} />
          <CheckboxField
            label={t('agents.form.enabled')}
            hint={t('agents.form.enabledHint')}
            checked={form.enabled}
            error={errors.enabled}
            onChange={(event) => set('enabled', event.target.checked)}
          />
        </fieldset>

        <fieldset className="form-section">
          <legend>{t('agents.form.connection')}</legend>
          <TextField
            label={t('agents.form.baseUrl')}
            name="agent-base-url"
            type="url"
            inputMode="url"
            spellCheck={false}
            required
            hint={form.provider === 'fastgpt' ? t('agents.form.baseUrlFastgpt') : t('agents.form.baseUrlOpenai')}
            {...text('base_url')}
          />
          <div className="form-grid">
            {form.provider === 'fastgpt' ? (
              <TextField
                label={t('agents.form.appId')}
                name="agent-app-id"
                spellCheck={false}
                hint={t('agents.form.appIdHint')}
                {...text('app_id')}
              />
            ) : (
              <TextField label={t('agents.form.model')} name="agent-model" spellCheck={false} required {...text('model')} />
            )}
            <TextField
              label={t('agents.form.apiKey')}
              name="agent-api-key"
              type="password"
              autoComplete="new-password"
              spellCheck={false}
              hint={agent ? t('agents.form.apiKeyKeep', { state: keyStateLabel(agent.key, t) }) : t('agents.form.apiKeyHint')}
              {...text('api_key')}
            />
            <TextField
              label={t('agents.form.apiKeyEnv')}
              name="agent-api-key-env"
              spellCheck={false}
              autoCapitalize="characters"
              hint={t('agents.form.apiKeyEnvHint')}
              {...text('api_key_env')}
            />
          </div>
          {agent?.key.state === 'stored' ? (
            <button type="button" className="button small danger" disabled={busy} onClick={() => void removeKey()}>
              {t('agents.form.removeKey')}
            </button>
          ) : null}
        </fieldset>

        <fieldset className="form-section">
          <legend>{t('agents.form.behaviour')}</legend>
          <TextAreaField label={t('agents.form.systemPrompt')} name="agent-system-prompt" rows={4} {...text('system_prompt')} />
          <div className="form-grid">
            <TextField
              label={t('agents.form.temperature')}
              name="agent-temperature"
              inputMode="decimal"
              hint={t('agents.form.temperatureHint')}
              {...text('temperature')}
            />
            <TextField
              label={t('agents.form.maxTokens')}
              name="agent-max-tokens"
              inputMode="numeric"
              hint={t('agents.form.defaultHint')}
              {...text('max_tokens')}
            />
            <TextField
              label={t('agents.form.contextBudget')}
              name="agent-context-budget"
              inputMode="numeric"
              hint={t('agents.form.contextBudgetHint')}
              {...text('context_budget')}
            />
            <TextField
              label={t('agents.form.readIdle')}
              name="agent-read-idle"
              inputMode="numeric"
              hint={t('agents.form.readIdleHint')}
              {...text('read_idle_secs')}
            />
          </div>
          <CheckboxField
            label={t('agents.form.detail')}
            hint={t('agents.form.detailHint')}
            checked={form.detail}
            error={errors.detail}
            onChange={(event) => set('detail', event.target.checked)}
          />
          <TextAreaField
            label={t('agents.form.variables')}
            name="agent-variables"
            rows={3}
            spellCheck={false}
            placeholder='{"city": "上海"}'
            hint={t('agents.form.variablesHint')}
            {...text('variables')}
          />
        </fieldset>
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? t('agents.form.saving') : agent ? t('agents.form.save') : t('agents.form.create')}
        </button>
      </form>
    </div>
  );
}
