#!/usr/bin/env node
// The `fcnn` executable.
import { run } from './program.js';

// `fcnn … | head` closes the pipe early: that ends the output, not in a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
