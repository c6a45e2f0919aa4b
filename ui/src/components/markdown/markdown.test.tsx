import { render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { Markdown } from './Markdown';
import MarkdownRenderer, { mayHaveMath, safeUrl } from './render';

function renderMarkdown(text: string) {
  return render(<MarkdownRenderer text={text} />).container;
}

/** Every attribute of every element, lower-cased, e.g. "onerror" or "href=javascript:…". */
function attributes(container: HTMLElement): string[] {
  return [...container.querySelectorAll('*')].flatMap((element) =>
    [...element.attributes].map((a) => `${a.name}=${a.value}`.toLowerCase()),
  );
}

describe('Markdown is sanitised', () => {
  it('does not create script elements; raw HTML shows as text', () => {
    const container = renderMarkdown('Hello <script>alert(1)</script> world\n\n<script>window.pwned = 1</script>');
    expect(container.querySelector('script')).toBeNull();
    expect(container.textContent).toContain('Hello');
    expect((window as { pwned?: number }).pwned).toBeUndefined();
  });

  it('drops event handlers and raw elements: no onerror, no img, no iframe', () => {
    const container = renderMarkdown('<img src=x onerror="alert(1)">\n\n<iframe src="https://evil.example"></iframe>\n\n<a href="#" onclick="alert(1)">x</a>');
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('iframe')).toBeNull();
    expect(attributes(container).filter((a) => a.startsWith('on'))).toEqual([]);
  });

  it('neutralises javascript:, vbscript: and data: links; web links open outside the app', () => {
    const container = renderMarkdown(
      '[one](javascript:alert(1)) [two](JaVaScRiPt:alert(1)) [three](vbscript:msgbox) [four](data:text/html;base64,PHNjcmlwdD4=) [web](https://example.com/a?b=1)',
    );
    const hrefs = [...container.querySelectorAll('a')].map((a) => a.getAttribute('href'));
    expect(hrefs).toEqual(['https://example.com/a?b=1']);
    expect(attributes(container).some((a) => a.includes('javascript:') || a.includes('vbscript:') || a.includes('data:'))).toBe(false);
    const web = screen.getByRole('link', { name: 'web' });
    expect(web.getAttribute('target')).toBe('_blank');
    expect(web.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    expect(screen.getByText('one').tagName).toBe('SPAN');
  });

  it('does not load remote images: a link stands in for them', () => {
    const container = renderMarkdown('![plan](https://tracker.example/p.png)');
    expect(container.querySelector('img')).toBeNull();
    expect(screen.getByRole('link', { name: 'plan' }).getAttribute('href')).toBe('https://tracker.example/p.png');
  });

  it('keeps only web and mail URLs', () => {
    expect(safeUrl('https://a.example/x')).toBe('https://a.example/x');
    expect(safeUrl('mailto:a@b.example')).toBe('mailto:a@b.example');
    expect(safeUrl('javascript:alert(1)')).toBe('');
    expect(safeUrl('/api/agents')).toBe('');
    expect(safeUrl('file:///etc/passwd')).toBe('');
  });
});

describe('Markdown renders GFM, code and math', () => {
  it('renders GFM tables and task lists', () => {
    const container = renderMarkdown('| 层 | 高 |\n|---|---|\n| 1 | 3.2 米 |\n\n- [x] done\n- [ ] open');
    expect(container.querySelector('table td')?.textContent).toBe('1');
    expect(container.querySelectorAll('input[type="checkbox"]')).toHaveLength(2);
  });

  it('highlights code blocks in a known language and leaves others plain', () => {
    const container = renderMarkdown('```rust\nfn main() { let x = 1; }\n```\n\n```cobol\nDISPLAY "HI".\n```');
    const blocks = container.querySelectorAll('pre code');
    expect(blocks[0]?.classList.contains('hljs')).toBe(true);
    expect(blocks[0]?.querySelector('.hljs-keyword')?.textContent).toBe('fn');
    expect(blocks[1]?.querySelector('span')).toBeNull();
  });

  it('renders math with KaTeX, loaded only for text with $', async () => {
    expect(mayHaveMath('no math here')).toBe(false);
    const { container } = render(<Markdown text={'Area: $a^2$\n\n$$\n\\frac{1}{2}\n$$'} />);
    await waitFor(() => expect(container.querySelectorAll('.katex')).toHaveLength(2));
    expect(container.querySelector('.katex-display')).not.toBeNull();
  });

  it('shows the text as it is until the renderer has loaded', () => {
    const { container } = render(<Markdown text="**bold**" />);
    expect(container.textContent).toContain('bold');
  });
});
