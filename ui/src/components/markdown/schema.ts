import { defaultSchema } from 'rehype-sanitize';

/**
 * What survives in rendered Markdown: GitHub's sanitisation (no raw HTML elements beyond the
 * safe ones, no event handlers, no `style`, no `javascript:` URLs) plus the classes math and code
 * highlighting need. It runs before KaTeX and the highlighter, whose output is generated, not input.
 */
export const markdownSchema = {
  ...defaultSchema,
  attributes: {
    ...defaultSchema.attributes,
    code: [['className', /^language-./, 'math-inline', 'math-display']],
  },
};
