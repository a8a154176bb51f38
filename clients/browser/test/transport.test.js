import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTransport } from '../src/transport.js';

const url = 'https://ingest.example/api/metrics?key=k';

test('a beacon the browser takes is the whole story', async () => {
  const beacons = [];
  let fetched = 0;
  const send = createTransport(url, {
    navigator: { sendBeacon: (u, blob) => { beacons.push({ u, blob }); return true; } },
    fetch: () => { fetched++; return Promise.resolve({ ok: true }); },
  });
  send('[1]', () => assert.fail('reported a failure'));
  assert.equal(beacons.length, 1);
  assert.equal(beacons[0].u, url);
  assert.equal(beacons[0].blob.type, 'text/plain');
  assert.equal(await beacons[0].blob.text(), '[1]');
  assert.equal(fetched, 0);
});

test('a refused beacon goes by keepalive fetch as text/plain', async () => {
  const calls = [];
  const send = createTransport(url, {
    navigator: { sendBeacon: () => false },
    fetch: (u, init) => { calls.push({ u, init }); return Promise.resolve({ ok: true, status: 202 }); },
  });
  send('[1]', () => assert.fail('reported a failure'));
  assert.equal(calls.length, 1);
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.keepalive, true);
  assert.equal(calls[0].init.credentials, 'omit');
  assert.equal(calls[0].init.headers['Content-Type'], 'text/plain');
});

test('failures are reported, retryable or not, and nothing throws', async () => {
  const outcomes = [];
  const answer = (status) => createTransport(url, {
    navigator: { sendBeacon: () => { throw new Error('refused'); } },
    fetch: () => Promise.resolve({ ok: status < 300, status }),
  });
  answer(503)('[1]', (r) => outcomes.push(['503', r]));
  answer(400)('[1]', (r) => outcomes.push(['400', r]));
  createTransport(url, { navigator: {}, fetch: () => Promise.reject(new TypeError('network')) })('[1]', (r) => outcomes.push(['network', r]));
  createTransport(url, { navigator: {}, fetch: () => { throw new TypeError('sync'); } })('[1]', (r) => outcomes.push(['sync', r]));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(outcomes.sort(), [['400', false], ['503', true], ['network', true], ['sync', true]]);
});
