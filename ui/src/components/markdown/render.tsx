import { use, type ComponentProps } from 'react';
import ReactMarkdown, { defaultUrlTransform, type Components } from 'react-markdown';
import rehypeSanitize from 'rehype-sanitize';
import remarkGfm from 'remark-gfm';
import { rehypeHighlightSome } from './highlight';
import { markdownSchema } from './schema';

import type { rehypeKatex, remarkMath } from './math';

interface MathPlugins {
  remarkMath: typeof remarkMath;
  rehypeKatex: typeof rehypeKatex;
}
let mathPlugins: Promise<MathPlugins> | null = null;
function loadMath(): Promise<MathPlugins> {
  mathPlugins ??= import('./math');
  return mathPlugins;
}

/** Text that may hold `$…$` or `$$…$$` math (remark-math's syntax). */
export function mayHaveMath(text: string): boolean {
  return text.includes('$');
}

/** Only web and mail links; everything else (javascript:, data:, vbscript:, file:) becomes empty. */
export function safeUrl(url: string): string {
  const transformed = defaultUrlTransform(url);
  if (transformed === '') return '';
  // Relative links would navigate inside the app: keep only absolute web and mail links.
  return /^(https?:|mailto:)/i.test(transformed) ? transformed : '';
}

function Link({ href, title, children }: ComponentProps<'a'> & { node?: unknown }) {
  if (!href) return <span className="markdown-dead-link">{children}</span>;
  return (
    <a href={href} title={title} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  );
}

/** Remote images are not loaded (they could report who reads the answer): a link stands in. */
function Image({ src, alt }: ComponentProps<'img'> & { node?: unknown }) {
  const label = alt?.trim() || (typeof src === 'string' ? src : '');
  if (typeof src !== 'string' || !src) return <span className="markdown-image">{label}</span>;
  return (
    <a className="markdown-image" href={src} target="_blank" rel="noopener noreferrer nofollow">
      <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">
        <path d="M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4" fill="none" stroke="currentColor" strokeWidth="2" strokeLinejoin="round" />
      </svg>{' '}
      {label}
    </a>
  );
}

const components: Components = { a: Link, img: Image };

export default function MarkdownRenderer({ text }: { text: string }) {
  const math = mayHaveMath(text) ? use(loadMath()) : null;
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={math ? [remarkGfm, math.remarkMath] : [remarkGfm]}
        rehypePlugins={[
          [rehypeSanitize, markdownSchema],
          ...(math ? [math.rehypeKatex] : []),
          rehypeHighlightSome,
        ]}
        urlTransform={safeUrl}
        components={components}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
