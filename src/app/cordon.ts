import { type CordonResult, cordonHost, uncordonHost } from '../drain/cordon.js';
import { requireConfiguredHost } from '../drain/make-plan.js';
import type { Runtime } from '../migration/index.js';

export function cordon(rt: Runtime, host: string, reason?: string): Promise<CordonResult> {
  requireConfiguredHost(rt.config, host);
  return cordonHost(rt.store, host, reason);
}

export function uncordon(rt: Runtime, host: string): Promise<CordonResult> {
  requireConfiguredHost(rt.config, host);
  return uncordonHost(rt.store, host);
}
