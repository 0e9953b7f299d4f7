import { runSample } from './run-sample.js';

/** `npm run sample` walks through what the library does; `npm run sample -- --serve` keeps it running. */
const serve = process.argv.includes('--serve');
const port = Number(process.env.PORT ?? 3000);

runSample({ serve, port }).then(
  (run) => {
    if (!serve) {
      process.exitCode = run.exitCode;
      return;
    }
    const stop = () => void run.close().then(() => process.exit(0));
    process.once('SIGINT', stop).once('SIGTERM', stop);
  },
  (error: unknown) => {
    process.stderr.write(`sample failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
