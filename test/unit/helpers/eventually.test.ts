import * as assert from 'assert/strict';
import { eventually } from '../../helpers/eventually';

describe('eventually()', () => {
  it('retries until the assertion holds and returns its value', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls++;
        assert.ok(calls >= 3, `call ${calls}`);
        return calls;
      },
      { interval: 5 },
    );
    assert.equal(value, 3);
  });

  it('on timeout rejects with the last failure, prefixed by the message', async () => {
    let calls = 0;
    const started = Date.now();
    await assert.rejects(
      eventually(() => assert.equal(++calls, 0, `attempt ${calls}`), { timeout: 100, interval: 10, message: 'never' }),
      (e: Error) => {
        assert.ok(e instanceof assert.AssertionError, 'the assertion error itself');
        assert.ok(e.message.startsWith(`never: still failing after 100 ms: attempt ${calls}\n`), e.message);
        return true;
      },
    );
    assert.ok(calls > 2, `${calls} attempts`);
    assert.ok(Date.now() - started >= 90, 'kept trying until the timeout');
  });

  it('names the prefix once in the stack of a plain Error', async () => {
    await assert.rejects(
      eventually(
        () => {
          throw new Error('not yet');
        },
        { timeout: 30, interval: 10, message: 'never' },
      ),
      (e: Error) => {
        assert.equal(e.stack?.split('\n')[0], 'Error: never: still failing after 30 ms: not yet');
        return true;
      },
    );
  });
});
