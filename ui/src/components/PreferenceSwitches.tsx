import { LOCALES, useI18n, type Locale } from '@/i18n';
import { useTheme, type ThemePreference } from '@/lib/theme';

/** Language choice; changes the whole UI at once and is remembered. */
export function LanguageSelect({ id = 'language-select' }: { id?: string }) {
  const { locale, setLocale, t } = useI18n();
  return (
    <div className="field field-inline">
      <label htmlFor={id}>{t('settings.language')}</label>
      <select id={id} value={locale} onChange={(event) => setLocale(event.target.value as Locale)}>
        {LOCALES.map((option) => (
          <option key={option.id} value={option.id} lang={option.id}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}

const THEMES: readonly ThemePreference[] = ['system', 'light', 'dark'];

/** Theme choice as a radio group: follow the OS, or light/dark. */
export function ThemeRadios({ name = 'theme' }: { name?: string }) {
  const { preference, setPreference } = useTheme();
  const { t } = useI18n();
  return (
    <fieldset className="radio-group">
      <legend>{t('settings.theme')}</legend>
      {THEMES.map((option) => (
        <label key={option} className="radio">
          <input
            type="radio"
            name={name}
            value={option}
            checked={preference === option}
            onChange={() => setPreference(option)}
          />
          {t(`settings.theme.${option}`)}
        </label>
      ))}
    </fieldset>
  );
}
