#!/usr/bin/env node
/** Entry point of `npm run reproduce` (and of the esbuild bundle). */
import { main } from './main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`reproduce: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  },
);
