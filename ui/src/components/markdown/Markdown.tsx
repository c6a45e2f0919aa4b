import { lazy, memo, Suspense } from 'react';

// The renderer (react-markdown, GFM, sanitiser, highlighter; KaTeX on demand) is a chunk of its
// own, fetched when the first message shows, so the start bundle stays small.
const Renderer = lazy(() => import('./render'));

/**
 * Markdown with GFM tables, code highlighting and math, sanitised: raw HTML is not rendered, links
 * only to http(s)/mailto and open outside the app, remote images become links (nothing is fetched).
 * Until the renderer has loaded, the text shows as it is.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <Suspense fallback={<div className="markdown markdown-plain">{text}</div>}>
      <Renderer text={text} />
    </Suspense>
  );
});
