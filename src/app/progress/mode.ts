/** How progress is shown; apart from lines.ts so that choosing a mode does not load listr2. */
export type ProgressMode = 'tty' | 'lines' | 'silent';

export function progressMode(options: { json: boolean; isTty: boolean }): ProgressMode {
  if (options.json) return 'silent';
  return options.isTty ? 'tty' : 'lines';
}
