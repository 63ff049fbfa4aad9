/**
 * `npm run kernel`: registers the repository's tslab kernel under .jupyter/ (inside
 * the checkout, git-ignored) and prints how to point Jupyter at it.
 */
import * as path from 'node:path';
import { repoRoot } from '../lib/core/paths';
import { UsageError } from '../lib/core/errors';
import { KERNEL_DISPLAY_NAME, KERNEL_NAME, registerKernel } from './jupyter-kernel';

function main(): number {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: npm run kernel   (registers the tslab kernel in .jupyter/ and prints the JUPYTER_PATH to export)');
    return 0;
  }
  if (args.length > 0) throw new UsageError(`unknown argument '${args[0]}': npm run kernel takes none (or --help)`);
  const root = repoRoot();
  const { specFile, dataPath } = registerKernel(root);
  console.log(`Registered Jupyter kernel '${KERNEL_NAME}' ("${KERNEL_DISPLAY_NAME}"): ${path.relative(root, specFile)}`);
  console.log(`It starts in ${root}, so notebooks import the library as './lib/...'.`);
  console.log('');
  console.log('Point Jupyter at it (in every shell that starts Jupyter):');
  console.log(`  export JUPYTER_PATH=${dataPath}`);
  console.log('Then open the notebooks, with JupyterLab (pip install jupyterlab) or the classic Notebook (Debian: apt-get install jupyter-notebook):');
  console.log('  jupyter lab notebooks/');
  console.log('  jupyter notebook notebooks/        (as root add --allow-root)');
  console.log('Run them all headlessly: npm run notebooks');
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`error: ${e.message}`);
    process.exitCode = e.exitCode;
  } else throw e;
}
