/**
 * `npm run cite`: a figure of a real run (rer, smoke profile: seconds) gets a BibTeX
 * entry and a CFF snippet with its provenance, and the command it prints regenerates
 * the figure byte for byte. Bad figure names: one line listing the valid ones, exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../lib/core/paths';
import { readSvgProvenance } from '../../lib/figures/render';
import { main } from '../../reproduce/main';
import { reproduceArgv, runCite } from '../../reproduce/cite-figure';
import { shellWords } from '../../reproduce/shell';
import { tempDirFactory } from '../fixtures/temp-dirs';

const tmp = tempDirFactory();
const quiet = { stdout: () => {}, stderr: () => {} };

function cite(argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCite(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

// One smoke run of rer shared by the tests below.
const first = path.join(tmp('cite-a-'), 'out');
const ran = main(['--only', 'rer', '--profile', 'smoke', '--out', first, '--quiet'], quiet);
const figureNames = async () => {
  await ran;
  return (JSON.parse(fs.readFileSync(path.join(first, 'rer', 'smoke', 'figures', 'figures.json'), 'utf8')) as { name: string }[]).map((f) => f.name);
};

test('every rer figure carries commit, seeds, config hash, backend, device, version and the command', async () => {
  const names = await figureNames();
  assert.ok(names.length > 0);
  for (const name of names) {
    const prov = readSvgProvenance(fs.readFileSync(path.join(first, 'rer', 'smoke', 'figures', `${name}.svg`), 'utf8'))!;
    for (const key of ['commit', 'dirty', 'seeds', 'configHash', 'backend', 'device', 'version', 'command']) assert.ok(key in prov, `${name}: ${key}`);
    assert.deepEqual(prov.seeds, [1]);
    assert.match(String(prov.command), /^npm run reproduce -- --only rer --profile smoke --seeds 1 --backend \w+/);
  }
});

test('cite prints BibTeX + CFF, and its command regenerates a byte-identical SVG', async () => {
  const [name] = await figureNames();
  const r = cite([`rer/${name}`, '--out', first, '--profile', 'smoke']);
  assert.equal(r.code, 0, r.err);
  const svg = fs.readFileSync(path.join(first, 'rer', 'smoke', 'figures', `${name}.svg`));
  const prov = readSvgProvenance(svg.toString('utf8'))!;
  const version = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).version as string;
  // BibTeX: title, suite + version + commit, the paper it reproduces, date.
  assert.match(r.out, new RegExp(`^@misc\\{ml-efficiency-repro-rer-${name}`, 'm'));
  assert.match(r.out, /^ {2}author +=.*ml-efficiency-repro contributors/m);
  assert.match(r.out, new RegExp(`howpublished += \\{ml-efficiency-repro v${version.replace(/\./g, '\\.')}, commit ${prov.commit ?? 'unknown'}`));
  assert.match(r.out, /Reproduces Jain, Kowshik, Nagaraj, Netrapalli\. Streaming Linear System Identification/);
  assert.match(r.out, /^ {2}date += \{\d{4}-\d{2}-\d{2}\}/m);
  // CFF snippet.
  assert.match(r.out, /^cff-version: 1\.2\.0$/m);
  assert.match(r.out, new RegExp(`^version: "${version}"$`, 'm'));
  if (prov.commit) assert.match(r.out, new RegExp(`^commit: "${prov.commit}"$`, 'm'));
  assert.match(r.out, /^ {4}url: "https:\/\/arxiv\.org\/abs\/2103\.05896"$/m);
  const sha = createHash('sha256').update(svg).digest('hex');
  assert.match(r.out, new RegExp(`sha256 ${sha}`));

  // Re-run exactly the printed command (into a fresh folder) and compare bytes.
  const command = r.out.split('\n').find((l) => l.startsWith('npm run reproduce -- '));
  assert.ok(command, r.out);
  const argv = reproduceArgv(command);
  const second = path.join(tmp('cite-b-'), 'out');
  argv[argv.indexOf('--out') + 1] = second;
  assert.equal(await main([...argv, '--quiet'], quiet), await ran);
  const again = fs.readFileSync(path.join(second, 'rer', 'smoke', 'figures', `${name}.svg`));
  assert.ok(again.equals(svg), 'regenerated SVG is byte-identical');
});

test('unknown paper or figure -> one line listing the valid ones, exit 2', async () => {
  const names = await figureNames();
  const cases: [string[], RegExp][] = [
    [['rer/nope', '--out', first], new RegExp(`^cite: unknown figure 'rer/nope' under .*; valid figures: .*rer/${names[0]}`)],
    [['nope/x', '--out', first], /^cite: unknown paper 'nope'; valid papers: rer/],
    [['rer', '--out', first], new RegExp(`^cite: bad figure 'rer': expected <paper>/<figure>; figures under .*rer/${names[0]}`)],
    [['rer/x', '--out', first, '--profile', 'huge'], /^cite: unknown profile 'huge'; valid profiles: smoke, quick, full or paper/],
    [['rer/x', '--out', path.join(first, 'none')], /^cite: no figures of rer under .*: run 'npm run reproduce -- --only rer --out /],
    [[], /^cite: expected one figure as <paper>\/<figure>, got none/],
  ];
  for (const [argv, pattern] of cases) {
    const r = cite(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, pattern);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
});

test('the real entry point answers a bad figure with exit 2', async () => {
  await ran;
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot(), 'reproduce', 'cite.ts'), 'rer/nope', '--out', first], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^cite: unknown figure 'rer\/nope'/);
});

test('shellWords and reproduceArgv read back recorded commands', () => {
  assert.deepEqual(shellWords(`a 'b c' "d \\"e\\"" f\\ g`), ['a', 'b c', 'd "e"', 'f g']);
  assert.deepEqual(reproduceArgv('npm run reproduce -- --only rer --set x=1'), ['--only', 'rer', '--set', 'x=1']);
  assert.throws(() => reproduceArgv('node other.js'), /not a reproduce command/);
});

test('CITATION.cff names the suite, the package version, Apache-2.0 and the release date', () => {
  const cff = fs.readFileSync(path.join(repoRoot(), 'CITATION.cff'), 'utf8');
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8'));
  assert.match(cff, /^title: "ml-efficiency-repro: reproducible checks of ML-efficiency papers"$/m);
  assert.match(cff, new RegExp(`^version: "${pkg.version}"$`, 'm'));
  assert.match(cff, /^license: Apache-2\.0$/m);
  assert.match(cff, /^ {2}- name: "ml-efficiency-repro contributors"$/m);
  assert.match(cff, /^date-released: "2026-11-23"$/m);
  assert.match(cff, /^cff-version: 1\.2\.0$/m);
});
