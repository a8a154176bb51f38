import assert from 'node:assert/strict';
import { test } from 'node:test';
import { body, createQueue, split, utf8Length } from '../src/queue.js';

// Timers the test runs by hand.
function manualTimers() {
  let next = 1;
  const pending = new Map();
  return {
    setTimeout(fn, delay) { pending.set(next, { fn, delay }); return next++; },
    clearTimeout(id) { pending.delete(id); },
    delays: () => [...pending.values()].map((t) => t.delay),
    runAll() { const due = [...pending.values()]; pending.clear(); due.forEach((t) => t.fn()); },
  };
}

const item = (json) => ({ json, bytes: utf8Length(json), tries: 0 });

test('utf8Length counts bytes as the wire does', () => {
  for (const text of ['abc', 'é', '€', '😀', 'a😀é€']) {
    assert.equal(utf8Length(text), Buffer.byteLength(text, 'utf8'), text);
  }
});

test('split keeps every body under the byte limit and the point limit', () => {
  const items = Array.from({ length: 250 }, (_, i) => item(JSON.stringify({ metric: 'm', value: i, pad: 'x'.repeat(200) })));
  const { batches, oversized } = split(items, 10_000, 1000);
  assert.equal(oversized, 0);
  assert.ok(batches.length > 1);
  for (const batch of batches) assert.ok(Buffer.byteLength(body(batch)) <= 10_000);
  assert.equal(batches.flat().length, 250);

  const byCount = split(items, 1_000_000, 100).batches;
  assert.deepEqual(byCount.map((b) => b.length), [100, 100, 50]);
});

test('an item too large for any beacon is left out and counted', () => {
  const { batches, oversized } = split([item('"' + 'x'.repeat(100) + '"'), item('1')], 50, 1000);
  assert.equal(oversized, 1);
  assert.equal(body(batches[0]), '[1]');
});

test('a queued point leaves after the interval, a full batch at once', () => {
  const timers = manualTimers();
  const sent = [];
  const queue = createQueue({ send: (b) => sent.push(JSON.parse(b)), flushAt: 3, interval: 5000, timers });
  queue.add({ metric: 'a', value: 1 });
  assert.deepEqual(timers.delays(), [5000]);
  queue.add({ metric: 'a', value: 2 });
  queue.add({ metric: 'a', value: 3 });
  assert.deepEqual(timers.delays(), [0]);
  timers.runAll();
  assert.deepEqual(sent, [[{ metric: 'a', value: 1 }, { metric: 'a', value: 2 }, { metric: 'a', value: 3 }]]);
  assert.equal(queue.length, 0);
});

test('a point added soon brings the batch forward, and never pushes it back', () => {
  const timers = manualTimers();
  const sent = [];
  const queue = createQueue({ send: (b) => sent.push(...JSON.parse(b)), interval: 5000, soon: 1000, timers });
  queue.add({ metric: 'custom', value: 1 });
  assert.deepEqual(timers.delays(), [5000]);
  queue.add({ metric: 'FCP', value: 2 }, { soon: true });
  assert.deepEqual(timers.delays(), [1000]);
  queue.add({ metric: 'TTFB', value: 3 }, { soon: true });
  queue.add({ metric: 'custom', value: 4 });
  assert.deepEqual(timers.delays(), [1000]);
  timers.runAll();
  assert.deepEqual(sent.map((p) => p.value), [1, 2, 3, 4]);

  // Alone in the queue, it leaves after `soon` too.
  queue.add({ metric: 'LCP', value: 5 }, { soon: true });
  assert.deepEqual(timers.delays(), [1000]);
});

test('a full queue drops its oldest points and counts them', () => {
  const sent = [];
  const queue = createQueue({ send: (b) => sent.push(...JSON.parse(b)), maxQueue: 5, flushAt: 100, timers: manualTimers() });
  for (let i = 0; i < 8; i++) queue.add({ value: i });
  assert.equal(queue.stats.dropped, 3);
  queue.flush();
  assert.deepEqual(sent.map((p) => p.value), [3, 4, 5, 6, 7]);
});

test('a batch that failed is tried once more, then dropped', () => {
  const timers = manualTimers();
  const failures = [];
  const queue = createQueue({ send: (b, onFailed) => failures.push(onFailed), timers });
  queue.add({ value: 1 });
  queue.flush();
  failures.shift()(true);
  assert.equal(queue.length, 1);
  assert.equal(queue.stats.dropped, 0);
  queue.flush();
  failures.shift()(true);
  assert.equal(queue.length, 0);
  assert.equal(queue.stats.dropped, 1);

  queue.add({ value: 2 });
  queue.flush();
  failures.shift()(false); // a 400: sending it again would fail again
  assert.equal(queue.length, 0);
  assert.equal(queue.stats.dropped, 2);
});
