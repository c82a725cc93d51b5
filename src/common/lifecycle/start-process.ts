import { ConfigValidationError } from '../../config/load-config';

/**
 * Runs a process's bootstrap (the API's, the worker's). A failure is one line per problem on
 * stderr and exit code 1, so a supervisor shows why and restarts it; never a stack trace.
 */
export function startProcess(bootstrap: () => Promise<void>): void {
  bootstrap().catch((error: unknown) => {
    if (error instanceof ConfigValidationError) {
      for (const problem of error.problems) console.error(`Invalid configuration: ${problem}`);
    } else {
      console.error(`Startup failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exit(1);
  });
}
