import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { en, type MessageKey } from './en';
import { zhCN } from './zh-CN';

export type { MessageKey } from './en';
export type Locale = 'zh-CN' | 'en';
export type Params = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: Params) => string;

export const LOCALES: readonly { id: Locale; label: string }[] = [
  { id: 'zh-CN', label: '简体中文' },
  { id: 'en', label: 'English' },
];

export const MESSAGES: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

const STORAGE_KEY = 'zk-agent.locale';

/** zh, zh-CN, zh-Hans… → zh-CN; anything else → en. */
export function localeFromLanguage(language: string | undefined | null): Locale {
  return language && /^zh\b/i.test(language) ? 'zh-CN' : 'en';
}

function isLocale(value: unknown): value is Locale {
  return value === 'zh-CN' || value === 'en';
}

/** The saved choice, else the OS/browser language. */
export function initialLocale(): Locale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (isLocale(saved)) return saved;
  } catch {
    // Storage disabled: fall through to the browser's language.
  }
  return localeFromLanguage(typeof navigator === 'undefined' ? null : navigator.language);
}

/** Fills `{name}` placeholders; an unknown key shows itself so that it is noticed, not hidden. */
export function translate(messages: Record<string, string>, key: string, params?: Params): string {
  const template = messages[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

interface I18n {
  locale: Locale;
  setLocale: (locale: Locale) => void;
  t: Translate;
  /** Date and time in the current language, e.g. for RFC 3339 strings from the API. */
  formatDateTime: (value: string | number | Date) => string;
  formatNumber: (value: number, options?: Intl.NumberFormatOptions) => string;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children, initial }: { children: ReactNode; initial?: Locale }) {
  const [locale, setLocaleState] = useState<Locale>(() => initial ?? initialLocale());

  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = translate(MESSAGES[locale], 'app.name');
  }, [locale]);

  const setLocale = useCallback((next: Locale) => {
    setLocaleState(next);
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Not persisted; the choice still holds for this page.
    }
  }, []);

  const value = useMemo<I18n>(() => {
    const messages = MESSAGES[locale];
    const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' });
    return {
      locale,
      setLocale,
      t: (key, params) => translate(messages, key, params),
      formatDateTime: (input) => {
        const date = input instanceof Date ? input : new Date(input);
        return Number.isNaN(date.getTime()) ? String(input) : dateTime.format(date);
      },
      formatNumber: (input, options) => new Intl.NumberFormat(locale, options).format(input),
    };
  }, [locale, setLocale]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const context = useContext(I18nContext);
  if (!context) throw new Error('useI18n() is used outside <I18nProvider>');
  return context;
}
