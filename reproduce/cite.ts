#!/usr/bin/env node
/** Entry point of `npm run cite`: BibTeX + CFF for one figure, and the command that regenerates it (see cite-figure.ts). */
import { runCite } from './cite-figure';

process.exitCode = runCite(process.argv.slice(2));
