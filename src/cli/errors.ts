import { ExitCode, type ExitCodeName } from './exit-codes.js';

/**
 * An error the operator can act on. Domain code throws it (or a subclass); the base command maps it to a message,
 * suggestions and an exit code.
 */
export class RehomeError extends Error {
  readonly exitCode: number;
  readonly suggestions: string[];

  constructor(message: string, kind: ExitCodeName, suggestions: string[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = 'RehomeError';
    this.exitCode = ExitCode[kind];
    this.suggestions = suggestions;
  }
}
