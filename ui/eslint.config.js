import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import path from 'node:path';
import tseslint from 'typescript-eslint';

const SRC = path.resolve(import.meta.dirname, 'src');

/** Where a file sits in the layering: app → features → shared (components, lib, i18n). */
function layerOf(file) {
  const relative = path.relative(SRC, file).split(path.sep);
  if (relative[0] === '..' || relative.length < 2) return null;
  if (relative[0] === 'features') return { layer: 'feature', name: relative[1] };
  if (relative[0] === 'app') return { layer: 'app' };
  return { layer: 'shared', name: relative[0] };
}

/**
 * The bulletproof-react import rules, enforced: no imports across features, and shared code
 * (components, lib, i18n) imports neither features nor the app. Resolves "@/…" and relative paths.
 */
const boundaries = {
  meta: { type: 'problem', schema: [], messages: { cross: '{{from}} must not import {{to}}: {{why}}' } },
  create(context) {
    const from = layerOf(context.filename);
    if (!from) return {};
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string') return;
      let target;
      if (source.startsWith('@/')) target = path.join(SRC, source.slice(2));
      else if (source.startsWith('.')) target = path.resolve(path.dirname(context.filename), source);
      else return;
      const to = layerOf(target) ?? layerOf(path.join(target, 'index.ts'));
      if (!to) return;
      let why = null;
      if (from.layer === 'feature' && to.layer === 'feature' && to.name !== from.name) {
        why = 'features do not import each other; move what they share to src/components or src/lib';
      } else if (from.layer !== 'app' && to.layer === 'app') {
        why = 'only the app composes; nothing imports src/app';
      } else if (from.layer === 'shared' && to.layer === 'feature') {
        why = 'shared code does not know features';
      }
      if (why) {
        context.report({
          node: node.source,
          messageId: 'cross',
          data: { from: path.relative(SRC, context.filename), to: source, why },
        });
      }
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'e2e/screenshots', 'test-results', 'playwright-report'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.json', './tsconfig.node.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
    plugins: { 'react-hooks': reactHooks, local: { rules: { boundaries } } },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'local/boundaries': 'error',
    },
  },
  {
    files: ['**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    },
  },
  {
    // The stand-ins for ts-rs output are written in its style.
    files: ['src/lib/api/generated/**'],
    rules: { '@typescript-eslint/consistent-type-definitions': 'off' },
  },
  {
    // Node scripts; e2e code also runs callbacks in the page (page.evaluate), hence the browser globals.
    files: ['*.config.{js,ts}', 'e2e/**/*.{ts,mjs}'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
