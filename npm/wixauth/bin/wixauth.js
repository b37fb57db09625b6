#!/usr/bin/env node
'use strict';
// `npx wixauth …`: runs this platform's wixauth binary with the same arguments, stdin, stdout,
// stderr, signals and exit status. There is no postinstall step (pnpm runs none by default, and
// sandboxes may forbid them): the binary is looked up here, at every run, with require.resolve.

const { spawn } = require('child_process');
const os = require('os');
const { findBinary } = require('../lib/platform.cjs');

function fail(message) {
  process.stderr.write(`wixauth: error: ${message}\n`);
  process.exit(1);
}

let bin;
try {
  bin = findBinary();
} catch (err) {
  fail(err.message);
}

// Signals sent to this process are passed on. A terminal's Ctrl-C reaches wixauth directly too
// (same process group): wixauth takes a second SIGINT like the first (`exec` ignores both and
// leaves Ctrl-C to its command), so forwarding never turns one Ctrl-C into two for a command.
// On Windows the console delivers Ctrl-C to every process attached to it, and child.kill()
// could only terminate wixauth outright: there the handlers only keep this process alive.
const FORWARDED =
  process.platform === 'win32' ? ['SIGINT', 'SIGBREAK'] : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

const child = spawn(bin.path, process.argv.slice(2), { stdio: 'inherit' });

const forward = (signal) => {
  if (process.platform !== 'win32') {
    try {
      child.kill(signal);
    } catch {
      // The child is gone already: its exit event comes next.
    }
  }
};
for (const signal of FORWARDED) {
  process.on(signal, forward);
}

child.on('error', (err) => {
  const fix =
    err.code === 'EACCES'
      ? `it is not executable: chmod 755 ${bin.path}`
      : `reinstall it: npm install --include=optional (${bin.pkg})`;
  fail(`cannot run ${bin.path} (${err.code || err.message}): ${fix}`);
});

child.on('exit', (code, signal) => {
  if (code !== null) {
    process.exit(code);
  }
  // Killed by a signal: die of the same signal, so the caller sees exactly what it would have
  // seen running the binary itself. Signals Node ignores (SIGPIPE) cannot kill it: then the
  // shell's convention, 128 + the signal number.
  for (const s of FORWARDED) {
    process.removeListener(s, forward);
  }
  try {
    process.kill(process.pid, signal);
  } catch {
    // Not a signal this platform can raise: fall through to the exit code.
  }
  setImmediate(() => process.exit(128 + (os.constants.signals[signal] || 0)));
});
