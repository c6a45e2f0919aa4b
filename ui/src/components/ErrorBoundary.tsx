import { Component, Fragment, type ErrorInfo, type ReactNode } from 'react';
import { useI18n } from '@/i18n';

interface Props {
  /** What this boundary guards, in words for the user ("Tasks", "the app"). */
  area: string;
  children: ReactNode;
  /** Changing any of these clears a shown error (e.g. the route). */
  resetKeys?: readonly unknown[];
}

interface State {
  error: Error | null;
  /** Bumped by Retry so that the children mount afresh. */
  generation: number;
}

function changed(a: readonly unknown[] = [], b: readonly unknown[] = []): boolean {
  return a.length !== b.length || a.some((value, i) => !Object.is(value, b[i]));
}

/** Shows what failed and a Retry button instead of a blank page when a view throws while rendering. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, generation: 0 };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`[${this.props.area}]`, error, info.componentStack);
  }

  override componentDidUpdate(previous: Props): void {
    if (this.state.error && changed(previous.resetKeys, this.props.resetKeys)) this.retry();
  }

  retry = (): void => {
    this.setState((state) => ({ error: null, generation: state.generation + 1 }));
  };

  override render(): ReactNode {
    if (this.state.error) return <ErrorPanel area={this.props.area} error={this.state.error} onRetry={this.retry} />;
    // The key remounts the subtree on Retry, so state that led to the error is dropped.
    return <Fragment key={this.state.generation}>{this.props.children}</Fragment>;
  }
}

export function ErrorPanel({ area, error, onRetry }: { area: string; error: Error; onRetry: () => void }) {
  const { t } = useI18n();
  return (
    <section className="panel error-panel" role="alert" aria-labelledby="error-panel-title">
      <h2 id="error-panel-title">{t('error.title', { area })}</h2>
      <p>{t('error.body')}</p>
      <p className="error-message">
        <code>{error.message || error.name}</code>
      </p>
      {error.stack ? (
        <details>
          <summary>{t('error.details')}</summary>
          <pre className="pre-scroll">{error.stack}</pre>
        </details>
      ) : null}
      <div className="actions">
        <button type="button" className="button primary" onClick={onRetry}>
          {t('error.retry')}
        </button>
        <button type="button" className="button" onClick={() => window.location.reload()}>
          {t('error.reload')}
        </button>
      </div>
    </section>
  );
}
