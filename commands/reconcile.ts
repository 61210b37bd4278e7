import { Flags } from '@oclif/core';
import { formatReconcile } from '../src/app/format/vm-actions.js';
import { stderrProgress } from '../src/app/progress/vm-progress.js';
import { BaseCommand } from '../src/cli/base-command.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { type ReconcileEntry, reconcile } from '../src/migration/index.js';

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
    const entries = await this.withRuntime(flags, (rt) =>
      reconcile(rt, stderrProgress(this.jsonEnabled()), flags.vm ? { vm: flags.vm } : {}),
    );
    if (!this.jsonEnabled()) this.log(formatReconcile(entries));
    if (entries.some((e) => e.action === 'error')) process.exitCode = ExitCode.migrationFailed;
    return { entries };
  }
}
