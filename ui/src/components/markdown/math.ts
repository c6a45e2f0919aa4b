// The math chunk: loaded only for text with `$`, as KaTeX is the largest part of rendering.
import 'katex/dist/katex.min.css';
import rehypeKatex from 'rehype-katex';
import remarkMath from 'remark-math';

export { rehypeKatex, remarkMath };
