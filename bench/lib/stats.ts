/** Small summaries for the benchmarks' printouts. */
export interface Summary {
  n: number;
  min: number;
  median: number;
  max: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function summarize(values: readonly number[]): Summary {
  return {
    n: values.length,
    min: values.length ? Math.min(...values) : Number.NaN,
    median: median(values),
    max: values.length ? Math.max(...values) : Number.NaN,
  };
}

/** "n=10 min 1.23 s · median 2.34 s · max 3.45 s", for values in ms. */
export function formatMs(summary: Summary, unit: 's' | 'ms' = 's'): string {
  const f = (ms: number) => (unit === 's' ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
  return `n=${summary.n} min ${f(summary.min)} · median ${f(summary.median)} · max ${f(summary.max)}`;
}

export function ratio(numerator: number, denominator: number): string {
  return (numerator / denominator).toFixed(3);
}
