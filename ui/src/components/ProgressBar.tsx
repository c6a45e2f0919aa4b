interface Props {
  /** 0–100 */
  value: number;
  label: string;
  /** Shown instead of the bar's fill when the work has not started. */
  indeterminate?: boolean;
  tone?: 'running' | 'done' | 'failed' | 'idle';
}

/** An accessible progress bar (role=progressbar with aria-valuenow) with the percentage beside it. */
export function ProgressBar({ value, label, indeterminate = false, tone = 'running' }: Props) {
  const clamped = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div className="progress">
      <div
        className={`progress-track tone-${tone}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={indeterminate ? undefined : clamped}
        aria-valuetext={indeterminate ? undefined : `${clamped}%`}
      >
        <div className={indeterminate ? 'progress-fill indeterminate' : 'progress-fill'} style={{ width: `${indeterminate ? 30 : clamped}%` }} />
      </div>
      <span className="progress-value" aria-hidden="true">
        {clamped}%
      </span>
    </div>
  );
}
