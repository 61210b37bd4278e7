import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import type { RuntimePaths } from '../app/config-load.js';
import { type ProgressMode, progressMode } from '../app/progress/mode.js';
import type { RuntimeOptions } from '../app/runtime.js';
import { type ErrorKind, RehomeError } from '../errors.js';
import type { Runtime } from '../migration/index.js';
import { ExitCode, exitCodeForKind } from './exit-codes.js';
import { suggestionsFor } from './suggestions.js';
import { environmentError } from './system-errors.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;

/**
 * Every rehome command extends this. It gives `--json`, and maps errors to exit codes and suggestions in one place,
 * so that the code stays right under `--json` too (oclif alone would exit 1 there).
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    config: Flags.string({
      description: 'Path to the rehome config file (default: config.yaml in the rehome config directory)',
      env: 'REHOME_CONFIG',
      helpGroup: 'GLOBAL',
    }),
  };

  /** oclif's config and data directories, and the config file named by --config (or REHOME_CONFIG). */
  protected runtimePaths(flags: { config?: string }): RuntimePaths {
    return {
      configDir: this.config.configDir,
      dataDir: this.config.dataDir,
      configFile: flags.config,
      // On stderr, so that --json output stays clean.
      onWarning: (message) => this.warn(message),
    };
  }

  /** The runtime (SSH, libvirt, the store) is imported here, when a command needs it, not when any command loads. */
  protected async withRuntime<T>(
    flags: { config?: string },
    work: (rt: Runtime) => Promise<T>,
    options: RuntimeOptions = {},
  ): Promise<T> {
    const { withRuntime } = await import('../app/runtime.js');
    return withRuntime(this.runtimePaths(flags), work, options);
  }

  /** Progress on stderr: live on a terminal, timestamped lines otherwise (cron), nothing under --json. */
  protected progressMode(): ProgressMode {
    return progressMode({ json: this.jsonEnabled(), isTty: process.stderr.isTTY === true });
  }

  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    const environment = environmentError(err);
    if (environment) return this.catch(environment);
    const exitCode = exitCodeOf(err);
    process.exitCode = exitCode;
    if (err instanceof RehomeError) {
      const wrapped = new Errors.CLIError(err.message, { exit: exitCode, suggestions: suggestionsFor(err) });
      Object.assign(wrapped, { kind: err.kind, subject: err.subject });
      return super.catch(wrapped);
    }
    return super.catch(err);
  }

  /**
   * A small, stable shape: `kind` is one of the error kinds in src/errors.ts (`invalid-input` for a bad command line too,
   * `internal` for the unforeseen), `code` the situation when the error names one. oclif's default serializes the
   * error object itself: `message` is not enumerable, so it was lost, and parse errors dragged the whole oclif config
   * along.
   */
  protected override toErrorJson(err: unknown): unknown {
    const error = err as Error & {
      suggestions?: string[];
      kind?: ErrorKind;
      subject?: { code?: string };
      oclif?: { exit?: number };
    };
    const suggestions = error.suggestions ?? [];
    const exitCode = exitCodeOf(error);
    return {
      error: {
        name: error.name,
        kind: error.kind ?? (exitCode === ExitCode.usage ? 'invalid-input' : 'internal'),
        ...(error.subject?.code ? { code: error.subject.code } : {}),
        message: error.message,
        exitCode,
        ...(suggestions.length > 0 ? { suggestions } : {}),
      },
    };
  }
}

function exitCodeOf(err: Error & { exitCode?: number; oclif?: { exit?: number } }): number {
  if (err instanceof RehomeError) return exitCodeForKind(err.kind);
  if (typeof err.oclif?.exit === 'number') return err.oclif.exit;
  if (
    err.name === 'NonExistentFlagsError' ||
    err.name === 'RequiredArgsError' ||
    err.name === 'FailedFlagValidation'
  )
    return ExitCode.usage;
  return ExitCode.unexpected;
}
