#!/usr/bin/env node
// The edgeflow command: thin launcher for the compiled CLI (npm run build first).
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
