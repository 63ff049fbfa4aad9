/**
 * Committed notebooks are stripped (no outputs, no execution counts, no transient
 * metadata) and run on the repository's tslab kernel. Fix with:
 * `node --import tsx reproduce/strip-notebooks.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../lib/core/paths';
import { defaultNotebooks } from '../../reproduce/notebook-options';
import { notebookProblems, parseNotebook, serializeNotebook, stripNotebook } from '../../reproduce/notebook-format';

const notebooks = defaultNotebooks(repoRoot());

for (const file of notebooks) {
  const name = path.relative(repoRoot(), file);
  test(`${name} is stripped and uses the tslab kernel`, () => {
    const text = fs.readFileSync(file, 'utf8');
    const nb = parseNotebook(text, name);
    assert.deepEqual(notebookProblems(nb), [], `run: node --import tsx reproduce/strip-notebooks.ts ${name}`);
    // Written as Jupyter writes it, so stripping or saving from Jupyter changes nothing.
    assert.equal(serializeNotebook(stripNotebook(nb)), text, `${name} is not in nbformat's layout: run reproduce/strip-notebooks.ts`);
  });
}

test('the check catches an executed notebook (so an empty notebooks/ still tests something)', () => {
  const executed = parseNotebook(
    JSON.stringify({
      nbformat: 4,
      nbformat_minor: 5,
      metadata: { kernelspec: { name: 'tslab', language: 'typescript', display_name: 'TypeScript' } },
      cells: [{ cell_type: 'code', source: '1', metadata: {}, execution_count: 1, outputs: [{ output_type: 'stream', name: 'stdout', text: '1\n' }] }],
    }),
    'executed.ipynb',
  );
  assert.deepEqual(notebookProblems(executed), ['cell 1 has 1 output(s)', 'cell 1 has execution_count 1']);
});
