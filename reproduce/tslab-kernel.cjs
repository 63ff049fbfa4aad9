#!/usr/bin/env node
/**
 * Starts tslab's Jupyter kernel with the repository root as working directory.
 *
 * Why: tslab compiles notebook code with rootDir = the kernel's cwd, and Jupyter
 * starts a kernel in the notebook's folder (notebooks/), so `import ... from
 * '../lib/...'` fails with "is not under 'rootDir'". Started from the root, a
 * notebook imports `./lib/...` in JupyterLab, the classic Notebook and headless runs
 * alike. The kernelspec written by `npm run kernel` runs this file:
 *
 *   node reproduce/tslab-kernel.cjs [--js] <connection_file>
 *
 * tslab runs in this same process (no child to forward signals to): its own SIGINT
 * handler interrupts the running cell, as with `tslab kernel`.
 */
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const jsKernel = args.includes('--js');
const files = args.filter((a) => a !== '--js');
if (files.length !== 1) {
  console.error('usage: node reproduce/tslab-kernel.cjs [--js] <connection_file>');
  process.exit(2);
}
// Resolve before chdir: Jupyter may pass a path relative to where it started us.
const configPath = path.resolve(files[0]);

const tslabMain = path.join(root, 'node_modules', 'tslab', 'dist', 'main.js');
if (!fs.existsSync(tslabMain)) {
  console.error(`tslab is not installed in ${root}/node_modules: run \`npm install\` there`);
  process.exit(1);
}

process.chdir(root);
const { startKernel } = require(tslabMain);
// enableFindLocal: false — we already picked the repository's own tslab.
startKernel({ configPath, enableFindLocal: false, jsKernel, globalVersion: '' });
