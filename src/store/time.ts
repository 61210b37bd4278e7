/** Normalises a timestamp to the one format the store compares as text: ISO-8601 UTC with milliseconds. */
export function toIsoUtc(value: string | Date): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) throw new RangeError(`Not a valid timestamp: ${String(value)}`);
  return date.toISOString();
}
