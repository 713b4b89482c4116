// Pruning the change feed runs beside the requests, not in their way: every request waits for
// the feed's catch-up pass, and a prune of a million changes (after an import) inside that
// pass held every request for as long as it took.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { ChangeFeed } from '../../../src/core/change-feed.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { Store } from '../../../src/db/store.ts';

describe('change feed pruning', () => {
  it('does not hold a catch-up while it runs', async () => {
    const store = new Store(await openDatabase(':memory:'));
    const feed = await ChangeFeed.open(store);
    let pruning = 0;
    feed.log.prune = () => {
      pruning++;
      return new Promise<number>(() => {}); // never ends
    };
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      mock.timers.tick(120_000);
      await store.createRepo({ name: 'r', format: 'files', kind: 'hosted', publicRead: true, options: {} });
      const done = await Promise.race([feed.catchUp().then(() => 'caught up'), new Promise((r) => setTimeout(r, 2000, 'held'))]);
      assert.equal(pruning, 1, 'no prune was started');
      assert.equal(done, 'caught up', 'the catch-up waited for the prune');
      // One prune at a time: another pass while it runs starts none.
      mock.timers.tick(120_000);
      await store.createRepo({ name: 's', format: 'files', kind: 'hosted', publicRead: true, options: {} });
      await feed.catchUp();
      assert.equal(pruning, 1);
    } finally {
      mock.timers.reset();
      await store.sql.close();
    }
  });
});
