#!/usr/bin/env node
/** Entry point of `npm run slurm`: reproduce as a Slurm array of shards, then merge (see slurm-array.ts). */
import { runSlurm } from './slurm-array';

runSlurm(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`slurm: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  },
);
