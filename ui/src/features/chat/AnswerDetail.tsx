import { useI18n } from '@/i18n';
import type { MessageView, Quote, ToolCall, WorkflowStep } from '@/lib/api';

/** Consecutive reports of the same node are one step. */
export function distinctSteps(steps: readonly WorkflowStep[]): WorkflowStep[] {
  const out: WorkflowStep[] = [];
  for (const step of steps) {
    const last = out.at(-1);
    if (last?.name === step.name) out[out.length - 1] = step;
    else out.push(step);
  }
  return out;
}

/** JSON shown indented when it is JSON, else as it came. */
export function prettyJson(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return text;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    return text;
  }
}

/** FastGPT's detail around an answer: workflow steps, reasoning, tool calls, cited quotes. */
export function AnswerDetail({ message }: { message: MessageView }) {
  const { detail } = message;
  const streaming = message.status === 'streaming';
  return (
    <>
      {detail.steps.length > 0 ? <Steps steps={distinctSteps(detail.steps)} streaming={streaming} /> : null}
      {detail.reasoning ? <Reasoning text={detail.reasoning} streaming={streaming && message.text === ''} /> : null}
      {detail.tools.length > 0 ? (
        <div className="tool-cards">
          {detail.tools.map((tool) => (
            <ToolCard key={tool.id} tool={tool} streaming={streaming} />
          ))}
        </div>
      ) : null}
      {detail.quotes.length > 0 ? <Quotes quotes={detail.quotes} /> : null}
    </>
  );
}

function Steps({ steps, streaming }: { steps: WorkflowStep[]; streaming: boolean }) {
  const { t } = useI18n();
  return (
    <ol className="steps" aria-label={t('chat.steps')} data-testid="steps">
      {steps.map((step, index) => {
        const current = streaming && index === steps.length - 1;
        return (
          <li key={`${index}-${step.name}`} className={current ? 'step step-running' : 'step step-done'}>
            <span className="step-dot" aria-hidden="true" />
            {step.name}
            <span className="sr-only"> ({current ? t('chat.stepRunning') : t('chat.stepDone')})</span>
          </li>
        );
      })}
    </ol>
  );
}

function Reasoning({ text, streaming }: { text: string; streaming: boolean }) {
  const { t } = useI18n();
  return (
    <details className="reasoning" data-testid="reasoning">
      <summary>{streaming ? t('chat.reasoningLive') : t('chat.reasoning')}</summary>
      <div className="reasoning-text">{text}</div>
    </details>
  );
}

function ToolCard({ tool, streaming }: { tool: ToolCall; streaming: boolean }) {
  const { t } = useI18n();
  const done = tool.response !== null && tool.response !== '';
  return (
    <details className="tool-card" data-testid="tool-card" data-tool-id={tool.id}>
      <summary>
        <span className="tool-name">{tool.tool_name}</span>
        {tool.function_name ? <code className="muted small">{tool.function_name}</code> : null}
        <span className={`badge ${done ? 'state-succeeded' : streaming ? 'state-running' : 'state-cancelled'}`}>
          {done ? t('chat.toolDone') : streaming ? t('chat.toolRunning') : t('chat.toolNoResponse')}
        </span>
      </summary>
      <div className="tool-body">
        <p className="tool-label">{t('chat.toolParams')}</p>
        <pre className="pre-scroll">{tool.params ? prettyJson(tool.params) : '—'}</pre>
        <p className="tool-label">{t('chat.toolResponse')}</p>
        <pre className="pre-scroll">{tool.response ? prettyJson(tool.response) : '—'}</pre>
      </div>
    </details>
  );
}

function Quotes({ quotes }: { quotes: readonly Quote[] }) {
  const { t, formatNumber } = useI18n();
  return (
    <section className="quotes" aria-label={t('chat.quotes')} data-testid="quotes">
      <p className="quotes-title small">{t('chat.quotesCount', { n: quotes.length })}</p>
      <ol>
        {quotes.map((quote, index) => (
          <li key={quote.id ?? index}>
            <details>
              <summary>
                <span className="quote-source">{quote.source_name ?? t('chat.quoteNoSource')}</span>
                {quote.score !== null ? (
                  <span className="muted small"> · {formatNumber(quote.score, { maximumFractionDigits: 2 })}</span>
                ) : null}
              </summary>
              {quote.question ? <p className="quote-question">{quote.question}</p> : null}
              {quote.answer ? <p className="quote-answer">{quote.answer}</p> : null}
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}
