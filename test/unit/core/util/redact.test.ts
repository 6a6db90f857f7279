// Issue 15 item 7: what counts as a secret in URLs and environment entries (src/core/util/redact.ts).
import * as assert from 'assert';
import { looksSecret, redactEnvEntry, redactUrl, redactUrlsIn } from '../../../../src/core/util/redact';

describe('redaction of credentials', () => {
  it('redactUrl drops user info and secret query values, and leaves other text as written', () => {
    assert.strictEqual(redactUrl('https://AKIA:s3cret@obs.example.com:9000'), 'https://obs.example.com:9000');
    assert.strictEqual(redactUrl('https://ghp_token@github.com/org/repo.git'), 'https://github.com/org/repo.git');
    assert.strictEqual(redactUrl('https://u:p@ss@host/x'), 'https://host/x', 'an unescaped @ in the password');
    assert.strictEqual(
      redactUrl('https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc&partNumber=2'),
      'https://b.s3.amazonaws.com/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&partNumber=2',
    );
    assert.strictEqual(
      redactUrl('http://127.0.0.1:9000'),
      'http://127.0.0.1:9000',
      'not re-serialised (no trailing slash added)',
    );
    assert.strictEqual(redactUrl('git@github.com:org/repo.git'), 'git@github.com:org/repo.git');
  });

  it('redactUrlsIn removes user info from every URL in free text', () => {
    assert.strictEqual(
      redactUrlsIn('primary=postgres://app:pw@db:5432/x, replica=redis://:pw2@cache'),
      'primary=postgres://db:5432/x, replica=redis://cache',
    );
    assert.strictEqual(redactUrlsIn('mail me at a@b.c'), 'mail me at a@b.c');
  });

  it('looksSecret goes by the parts of a name', () => {
    for (const n of [
      'HF_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_ACCESS_KEY_ID',
      'PGPASSWORD',
      'MODELREG_REGISTRY_PASSWORD',
      'OPENAI_API_KEY',
      'apiKey',
      'GITHUB_AUTH',
      'DB_PASS',
      'MYSQL_PWD',
      'GOOGLE_APPLICATION_CREDENTIALS',
      'SENTRY_DSN',
      'SECRET',
      'client_secret',
    ])
      assert.ok(looksSecret(n), n);
    for (const n of [
      'PATH',
      'HOME',
      'TOKENIZERS_PARALLELISM',
      'PWD',
      'OLDPWD',
      'LANG',
      'MODEL_DIR',
      'PYTHONPATH',
      'CUDA_VISIBLE_DEVICES',
      'AUTHOR',
    ])
      assert.ok(!looksSecret(n), n);
  });

  it('redactEnvEntry: secret names lose their value; URLs in other values lose their user info', () => {
    assert.strictEqual(redactEnvEntry('HF_TOKEN=hf_abc=def'), 'HF_TOKEN=<redacted>');
    assert.strictEqual(redactEnvEntry('DATABASE_URL=postgres://u:p@db/x'), 'DATABASE_URL=postgres://db/x');
    assert.strictEqual(redactEnvEntry('PATH=/usr/bin'), 'PATH=/usr/bin');
    assert.strictEqual(redactEnvEntry('JUSTANAME'), 'JUSTANAME');
  });
});
