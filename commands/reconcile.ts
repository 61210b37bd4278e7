import { Flags } from '@oclif/core';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { openRuntime } from '../src/app/runtime.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { type ReconcileEntry, reconcile } from '../src/migration/reconcile.js';

export interface ReconcileResult {
  entries: ReconcileEntry[];
}

export default class Reconcile extends BaseCommand {
  static override summary =
    'One pass over every migration: finish or roll back half-done cutovers, restore mirrors, enforce deadlines';
  static override description =
    'Safe for cron and alongside `rehome watch`: each VM is handled under its lock, and a VM another process holds is skipped.';
  static override flags = { vm: Flags.string({ description: 'Only this VM' }) };

  async run(): Promise<ReconcileResult> {
    const { flags } = await this.parse(Reconcile);
    const rt = await openRuntime({
      configDir: this.config.configDir,
      dataDir: this.config.dataDir,
      configFile: flags.config,
    });
    try {
      const entries = await reconcile(
        rt,
        stderrProgress(this.jsonEnabled()),
        flags.vm ? { vm: flags.vm } : {},
      );
      if (!this.jsonEnabled()) {
        for (const e of entries)
          this.log(`${e.vm}: ${e.phaseBefore} → ${e.phaseAfter} (${e.action}: ${e.reason})`);
        if (entries.length === 0) this.log('Nothing to reconcile.');
      }
      if (entries.some((e) => e.action === 'error')) process.exitCode = 9;
      return { entries };
    } finally {
      await rt.close();
    }
  }
}
