import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeFingerprint } from '../../lib/core/provenance';

test("a paper's code fingerprint is stable, differs between papers, and honours a bundle's stamped values", () => {
  assert.match(codeFingerprint('rer'), /^[0-9a-f]{16}$/);
  assert.equal(codeFingerprint('rer'), codeFingerprint('rer'));
  assert.notEqual(codeFingerprint('rer'), codeFingerprint('flash'));
  process.env.REPRO_CODE_FINGERPRINTS = JSON.stringify({ rer: 'stamped' });
  try {
    assert.equal(codeFingerprint('rer'), 'stamped');
  } finally {
    delete process.env.REPRO_CODE_FINGERPRINTS;
  }
});
