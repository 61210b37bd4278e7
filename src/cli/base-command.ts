import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { RehomeError } from './errors.js';
import { ExitCode } from './exit-codes.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;

/**
 * Every rehome command extends this. It gives `--json`, and maps errors to exit codes in one place, so that the
 * code stays right under `--json` too (oclif alone would exit 1 there).
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

  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    const exitCode = exitCodeOf(err);
    process.exitCode = exitCode;
    if (err instanceof RehomeError) {
      const wrapped = new Errors.CLIError(err.message, { exit: exitCode, suggestions: err.suggestions });
      return super.catch(wrapped);
    }
    return super.catch(err);
  }

  /**
   * A small, stable shape. oclif's default serializes the error object itself: `message` is not enumerable, so it
   * was lost, and parse errors dragged the whole oclif config along.
   */
  protected override toErrorJson(err: unknown): unknown {
    const error = err as Error & { suggestions?: string[]; oclif?: { exit?: number } };
    const suggestions = error.suggestions ?? [];
    return {
      error: {
        name: error.name,
        message: error.message,
        exitCode: exitCodeOf(error),
        ...(suggestions.length > 0 ? { suggestions } : {}),
      },
    };
  }
}

function exitCodeOf(err: Error & { exitCode?: number; oclif?: { exit?: number } }): number {
  if (err instanceof RehomeError) return err.exitCode;
  if (typeof err.oclif?.exit === 'number') return err.oclif.exit;
  if (
    err.name === 'NonExistentFlagsError' ||
    err.name === 'RequiredArgsError' ||
    err.name === 'FailedFlagValidation'
  )
    return ExitCode.usage;
  return ExitCode.unexpected;
}
