import { describe, expect, it } from 'vitest';
import { en } from './en';
import { MESSAGES, localeFromLanguage, translate, type Locale } from './index';
import { zhCN } from './zh-CN';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('message catalogues', () => {
  // Checked at run time as well as by the types: a catalogue typed loosely, or built from data,
  // must still not ship with a key missing in one language.
  const catalogues = Object.entries(MESSAGES) as [Locale, Record<string, string>][];
  const all = new Set(catalogues.flatMap(([, messages]) => Object.keys(messages)));

  it.each(catalogues)('%s has every key of every other language', (_locale, messages) => {
    const missing = [...all].filter((key) => !(key in messages));
    expect(missing).toEqual([]);
  });

  it.each(catalogues)('%s has no empty message', (_locale, messages) => {
    expect(Object.entries(messages).filter(([, text]) => text.trim() === '')).toEqual([]);
  });

  it('uses the same placeholders in both languages', () => {
    const mismatched = Object.keys(en).filter(
      (key) => placeholders(en[key as keyof typeof en]).join() !== placeholders(zhCN[key as keyof typeof en]).join(),
    );
    expect(mismatched).toEqual([]);
  });

  it('has Chinese text in the Chinese catalogue (not English copied over)', () => {
    // Product names stay as they are.
    const sameInBoth = ['app.name', 'settings.server.fastgpt', 'agents.provider.fastgpt'];
    const copied = Object.keys(en).filter((key) => {
      const k = key as keyof typeof en;
      return zhCN[k] === en[k] && /[a-z]{4,}/i.test(en[k]) && !sameInBoth.includes(key);
    });
    expect(copied).toEqual([]);
  });
});

describe('language choice', () => {
  it('defaults to Simplified Chinese for zh* and English otherwise', () => {
    expect(localeFromLanguage('zh-CN')).toBe('zh-CN');
    expect(localeFromLanguage('zh')).toBe('zh-CN');
    expect(localeFromLanguage('zh-Hans-SG')).toBe('zh-CN');
    expect(localeFromLanguage('en-GB')).toBe('en');
    expect(localeFromLanguage('de')).toBe('en');
    expect(localeFromLanguage(undefined)).toBe('en');
  });

  it('fills placeholders and shows an unknown key as itself', () => {
    expect(translate(en, 'tasks.attempts', { n: 1, max: 3 })).toBe('Attempt 1 of 3');
    expect(translate(zhCN, 'tasks.attempts', { n: 1, max: 3 })).toBe('第 1 次尝试，共 3 次');
    expect(translate(en, 'no.such.key')).toBe('no.such.key');
  });
});
