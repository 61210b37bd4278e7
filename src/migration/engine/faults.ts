/**
 * Test-only fault injection, off unless these variables are set (documented in README, used by test/lab):
 * - REHOME_FAULT_HOLD_BEFORE=<step>: the engine stops for good right before that step (a test then kill -9s it);
 *   with REHOME_FAULT_HOLD_MS=<ms>, it stops that long only, then goes on (a test SIGSTOPs it meanwhile);
 * - REHOME_FAULT_PAUSE_DELAY_MS=<ms>: the reboot handler waits that long before suspending (exceeds the bound).
 */
export function holdBeforeStep(): string | undefined {
  return process.env.REHOME_FAULT_HOLD_BEFORE || undefined;
}

export function pauseDelayMs(): number {
  const value = Number(process.env.REHOME_FAULT_PAUSE_DELAY_MS ?? 0);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

export function holdForever(onHold: () => void): Promise<never> {
  onHold();
  return new Promise<never>(() => {
    setInterval(() => {}, 60_000);
  });
}

/** REHOME_FAULT_HOLD_MS, when set: the hold before the step ends after that long. */
export function holdMs(): number | undefined {
  const value = Number(process.env.REHOME_FAULT_HOLD_MS ?? 0);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
