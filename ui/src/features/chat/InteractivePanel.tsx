import { useState, type SubmitEvent } from 'react';
import { CheckboxField, SelectField, TextAreaField, TextField } from '@/components/Field';
import { useI18n, type Translate } from '@/i18n';
import type { InputField, Interactive } from '@/lib/api';
import { controlOf, formReply, initialValues, validateForm, type FieldProblem, type FormValues } from './interactiveForm';

interface Props {
  interactive: Interactive;
  disabled: boolean;
  /** Sends the answer as the next message (`interactive_reply`); the workflow goes on from there. */
  onReply: (text: string) => void;
}

export function problemText(problem: FieldProblem, t: Translate): string {
  switch (problem.kind) {
    case 'required':
      return t('validation.required');
    case 'number':
      return t('chat.form.number');
    case 'min':
      return t('chat.form.min', { min: problem.min });
    case 'max':
      return t('chat.form.max', { max: problem.max });
    case 'maxLength':
      return t('chat.form.maxLength', { max: problem.max });
    case 'option':
      return t('chat.form.option');
  }
}

/** The workflow waits for the user: a choice among options, or a form to fill in. */
export function InteractivePanel({ interactive, disabled, onReply }: Props) {
  const { t } = useI18n();
  switch (interactive.kind) {
    case 'user_select':
      return (
        <section className="interactive panel" aria-labelledby="interactive-title" data-testid="interactive">
          <h2 id="interactive-title" className="interactive-title">
            {interactive.description || t('chat.form.choose')}
          </h2>
          <div className="actions" role="group" aria-labelledby="interactive-title">
            {interactive.options.map((option) => (
              <button
                key={option.key}
                type="button"
                className="button"
                disabled={disabled}
                onClick={() => onReply(option.value)}
              >
                {option.value}
              </button>
            ))}
          </div>
        </section>
      );
    case 'user_input':
      return <InputForm description={interactive.description} fields={interactive.fields} disabled={disabled} onReply={onReply} />;
    case 'other':
      return (
        <section className="interactive panel" aria-labelledby="interactive-title" data-testid="interactive">
          <h2 id="interactive-title" className="interactive-title">
            {t('chat.form.unknown')}
          </h2>
          <pre className="pre-scroll">{JSON.stringify(interactive.raw, null, 2)}</pre>
        </section>
      );
  }
}

function InputForm({
  description,
  fields,
  disabled,
  onReply,
}: {
  description: string;
  fields: InputField[];
  disabled: boolean;
  onReply: (text: string) => void;
}) {
  const { t } = useI18n();
  const [values, setValues] = useState<FormValues>(() => initialValues(fields));
  const [problems, setProblems] = useState<Record<string, FieldProblem>>({});
  const set = (key: string, value: FormValues[string]) => setValues((previous) => ({ ...previous, [key]: value }));

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const found = validateForm(fields, values);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    onReply(formReply(fields, values));
  };

  return (
    <form
      className="interactive panel"
      aria-labelledby="interactive-title"
      data-testid="interactive"
      noValidate
      onSubmit={submit}
    >
      <h2 id="interactive-title" className="interactive-title">
        {description || t('chat.form.fill')}
      </h2>
      <div className="form-grid">
        {fields.map((field) => {
          const problem = problems[field.key];
          const error = problem ? problemText(problem, t) : null;
          const label = `${field.label || field.key}${field.required ? ' *' : ''}`;
          const common = { label, error, hint: field.description ?? undefined, name: `form-${field.key}` };
          const value = values[field.key];
          switch (controlOf(field)) {
            case 'textarea':
              return (
                <TextAreaField
                  key={field.key}
                  {...common}
                  rows={3}
                  maxLength={field.max_length ?? undefined}
                  value={typeof value === 'string' ? value : ''}
                  onChange={(event) => set(field.key, event.target.value)}
                />
              );
            case 'number':
              return (
                <TextField
                  key={field.key}
                  {...common}
                  type="number"
                  inputMode="decimal"
                  min={field.min ?? undefined}
                  max={field.max ?? undefined}
                  value={typeof value === 'string' ? value : ''}
                  onChange={(event) => set(field.key, event.target.value)}
                />
              );
            case 'select':
              return (
                <SelectField
                  key={field.key}
                  {...common}
                  value={typeof value === 'string' ? value : ''}
                  onChange={(event) => set(field.key, event.target.value)}
                >
                  <option value="">{t('chat.form.pick')}</option>
                  {field.options.map((option) => (
                    <option key={option.key} value={option.value}>
                      {option.value}
                    </option>
                  ))}
                </SelectField>
              );
            case 'multiselect': {
              const chosen = Array.isArray(value) ? value : [];
              return (
                <fieldset key={field.key} className="field checkbox-group" aria-invalid={error ? true : undefined}>
                  <legend>{label}</legend>
                  {field.options.map((option) => (
                    <label key={option.key} className="checkbox">
                      <input
                        type="checkbox"
                        checked={chosen.includes(option.value)}
                        onChange={(event) =>
                          set(
                            field.key,
                            event.target.checked ? [...chosen, option.value] : chosen.filter((v) => v !== option.value),
                          )
                        }
                      />
                      {option.value}
                    </label>
                  ))}
                  {error ? <p className="field-error">{error}</p> : null}
                </fieldset>
              );
            }
            case 'switch':
              return (
                <CheckboxField
                  key={field.key}
                  {...common}
                  checked={value === true}
                  onChange={(event) => set(field.key, event.target.checked)}
                />
              );
            case 'text':
              return (
                <TextField
                  key={field.key}
                  {...common}
                  maxLength={field.max_length ?? undefined}
                  value={typeof value === 'string' ? value : ''}
                  onChange={(event) => set(field.key, event.target.value)}
                />
              );
          }
        })}
      </div>
      <button type="submit" className="button primary" disabled={disabled}>
        {t('chat.form.submit')}
      </button>
    </form>
  );
}
