import type { Element, ElementContent, Root, RootContent } from 'hast';
import { createLowlight } from 'lowlight';
import { languages } from './languages';

const lowlight = createLowlight(languages);

function languageOf(classes: readonly string[]): string | null {
  for (const name of classes) {
    if (name.startsWith('language-')) return name.slice('language-'.length);
  }
  return null;
}

function highlight(code: Element): void {
  const classes = Array.isArray(code.properties.className) ? code.properties.className.map(String) : [];
  const language = languageOf(classes);
  if (!language || !lowlight.registered(language)) return;
  const text = code.children.map((child) => (child.type === 'text' ? child.value : '')).join('');
  const result = lowlight.highlight(language, text, { prefix: 'hljs-' });
  code.properties.className = ['hljs', ...classes];
  code.children = result.children as ElementContent[];
}

function walk(node: Root | RootContent, parent: Root | Element | null): void {
  if (node.type === 'element' && node.tagName === 'code' && parent?.type === 'element' && parent.tagName === 'pre') {
    highlight(node);
    return;
  }
  if (node.type === 'root' || node.type === 'element') {
    for (const child of node.children) walk(child, node);
  }
}

/**
 * Highlights fenced code blocks whose language is one of `languages` (a rehype plugin). Unlike
 * rehype-highlight it does not pull in highlight.js's whole "common" set; unknown languages and
 * blocks without one stay plain.
 */
export function rehypeHighlightSome() {
  return (tree: Root) => {
    walk(tree, null);
  };
}
