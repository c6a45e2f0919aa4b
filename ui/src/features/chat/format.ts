export { formatBytes } from '@/lib/format';

/** Milliseconds as "850 ms" or "2.4 s". */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
