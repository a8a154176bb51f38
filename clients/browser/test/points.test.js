import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanTags, isValidName, mergeTags, pageInfo, point, uuid } from '../src/points.js';
import { typeOf } from '../src/errors.js';
import { readEndpoint, readSampleRate } from '../src/config.js';

test('names follow ingestion rules', () => {
  assert.ok(isValidName('LCP'));
  assert.ok(isValidName('checkout.step_ms:v2-x'));
  assert.ok(!isValidName('2fast'));
  assert.ok(!isValidName('has space'));
  assert.ok(!isValidName('a'.repeat(201)));
  assert.ok(!isValidName(undefined));
});

test('tags: strings cut to 200, numbers and booleans kept, anything else refused', () => {
  assert.deepEqual(cleanTags({ a: 'x'.repeat(300), b: 2, c: true, d: undefined }), { a: 'x'.repeat(200), b: 2, c: true });
  assert.deepEqual(cleanTags(undefined), {});
  assert.equal(cleanTags({ a: { nested: 1 } }), null);
  assert.equal(cleanTags({ a: NaN }), null);
  assert.equal(cleanTags({ ['k'.repeat(101)]: 1 }), null);
  assert.equal(cleanTags({ 'bad\nkey': 1 }), null);
  assert.equal(cleanTags('route=/'), null);
});

test('given tags win over automatic ones, within 32 in all', () => {
  assert.deepEqual(mergeTags({ route: '/a', service: 's' }, { route: '/b' }), { route: '/b', service: 's' });
  const many = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`t${i}`, i]));
  assert.equal(mergeTags({ route: '/', service: 's' }, many), null);
});

test('a point has a fresh UUID and the page address without query or fragment', () => {
  const page = pageInfo(new URL('https://shop.example/orders/42?token=secret#top'), { userAgent: 'UA' });
  const p = point('LCP', 1234.5, { route: '/orders/:id' }, page);
  assert.equal(p.url, 'https://shop.example/orders/42');
  assert.equal(p.userAgent, 'UA');
  assert.equal(p.timestamp, undefined);
  assert.match(p.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(point('LCP', 1, {}, page).id, p.id);
  assert.match(uuid(), /^[0-9a-f-]{36}$/);
});

test('error types: the Error name, or the fallback', () => {
  class CheckoutError extends Error { constructor() { super('card 4111 declined'); this.name = 'CheckoutError'; } }
  assert.equal(typeOf(new CheckoutError(), 'Error'), 'CheckoutError');
  assert.equal(typeOf(new TypeError('x'), 'Error'), 'TypeError');
  assert.equal(typeOf('just a string', 'UnhandledRejection'), 'UnhandledRejection');
  assert.equal(typeOf(null, 'Error'), 'Error');
  assert.equal(typeOf({ name: '', message: 'm' }, 'Error'), 'Error');
});

test('endpoint: data-endpoint, else the script origin; sample rate 0-1', () => {
  assert.equal(readEndpoint(undefined, 'https://ingest.example:8443/sdk/contentmax.js?v=1', 'https://shop.example/'), 'https://ingest.example:8443');
  assert.equal(readEndpoint('https://proxy.example/monitoring/', 'https://ingest.example/sdk/contentmax.js', 'https://shop.example/'), 'https://proxy.example/monitoring');
  assert.equal(readEndpoint('javascript:alert(1)', 'https://ingest.example/sdk/contentmax.js', 'https://shop.example/'), null);
  assert.equal(readSampleRate(undefined), 1);
  assert.equal(readSampleRate('0.25'), 0.25);
  assert.equal(readSampleRate('0'), 0);
});
