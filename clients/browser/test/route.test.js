import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isIdSegment, normaliseRoute, routeOf } from '../src/route.js';

test('numeric, uuid, hex and token segments become :id', () => {
  assert.equal(normaliseRoute('/orders/18213/items/7'), '/orders/:id/items/:id');
  assert.equal(normaliseRoute('/users/3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f5a6b/profile'), '/users/:id/profile');
  assert.equal(normaliseRoute('/docs/507f1f77bcf86cd799439011'), '/docs/:id');
  assert.equal(normaliseRoute('/share/aGVsbG8td29ybGQtMTIzNDU2Nzg5MA'), '/share/:id');
});

test('words stay, even hex-looking ones without digits', () => {
  assert.equal(normaliseRoute('/t/a1b2c3d4e5f6g7h8i9j0k1l2m3'), '/t/:id');
  for (const word of ['orders', 'facade', 'deadbeefcafe', 'v2', 'checkout-step-two', 'how-to-bake-bread-in-2024-at-home']) {
    assert.equal(isIdSegment(word), false, word);
  }
  assert.equal(normaliseRoute('/blog/deadbeefcafe'), '/blog/deadbeefcafe');
});

test('trailing slashes are dropped, the root stays', () => {
  assert.equal(normaliseRoute('/orders/'), '/orders');
  assert.equal(normaliseRoute('/'), '/');
  assert.equal(normaliseRoute(''), '/');
  assert.equal(normaliseRoute(undefined), '/');
});

test('a route is at most 200 characters', () => {
  assert.equal(normaliseRoute('/' + 'a'.repeat(500)).length, 200);
});

test('the page function wins, and a failing or empty one falls back', () => {
  const url = new URL('https://shop.example/orders/42?token=secret');
  assert.equal(routeOf(url, (u) => (u.pathname.startsWith('/orders') ? '/orders/:order' : null)), '/orders/:order');
  assert.equal(routeOf(url, () => { throw new Error('boom'); }), '/orders/:id');
  assert.equal(routeOf(url, () => '  '), '/orders/:id');
  assert.equal(routeOf(url, () => '/x\n/y'), '/x/y');
  assert.equal(routeOf(url, undefined), '/orders/:id');
});
