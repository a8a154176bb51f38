import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installVitals } from '../src/vitals.js';

// web-vitals as installVitals uses it: each on* call registers a callback, and
// the test plays the browser, calling them as web-vitals would.
function fakeWebVitals() {
  const callbacks = { LCP: [], LCPAll: [], INP: [], CLS: [], FCP: [], TTFB: [] };
  const on = (name) => (callback, options) => {
    callbacks[name === 'LCP' && options?.reportAllChanges ? 'LCPAll' : name].push(callback);
  };
  return {
    vitals: { onLCP: on('LCP'), onINP: on('INP'), onCLS: on('CLS'), onFCP: on('FCP'), onTTFB: on('TTFB') },
    final: (metric) => callbacks.LCP.forEach((c) => c(metric)),
    candidate: (metric) => callbacks.LCPAll.forEach((c) => c(metric)),
    report: (name, metric) => callbacks[name].forEach((c) => c(metric)),
  };
}

function fakeWindow() {
  const listeners = [];
  return {
    addEventListener: (type, listener) => listeners.push({ type, listener }),
    dispatch: (type, event) => listeners.filter((l) => l.type === type).forEach((l) => l.listener(event)),
  };
}

const lcp = (value, navigationType = 'navigate') => ({ name: 'LCP', value, rating: 'good', navigationType });

function install() {
  const reported = [];
  const fake = fakeWebVitals();
  const win = fakeWindow();
  const handle = installVitals((name, value, tags) => reported.push({ name, value, tags }), fake.vitals, win);
  return { reported, fake, win, handle };
}

test('LCP finalised by web-vitals (input or visibilitychange) is reported once', () => {
  const { reported, fake, handle } = install();
  fake.candidate(lcp(800));
  fake.candidate(lcp(1200));
  fake.final(lcp(1200));
  handle.pageHidden();
  assert.deepEqual(reported, [{ name: 'LCP', value: 1200, tags: { rating: 'good', navigationType: 'navigate' } }]);
});

test('pagehide before web-vitals finalises: the latest candidate is reported, and the late final report is not', () => {
  const { reported, fake, handle } = install();
  fake.candidate(lcp(800));
  fake.candidate(lcp(1500));
  handle.pageHidden();
  fake.final(lcp(1500));
  fake.candidate(lcp(1600)); // web-vitals stops observing once final; a stray one is ignored too
  handle.pageHidden();
  assert.deepEqual(reported.map((r) => r.value), [1500]);
});

test('a page hidden before any LCP candidate reports no LCP', () => {
  const { reported, handle } = install();
  handle.pageHidden();
  assert.deepEqual(reported, []);
});

test('after a back/forward-cache restore the restored view reports its own LCP', () => {
  const { reported, fake, win, handle } = install();
  fake.candidate(lcp(900));
  handle.pageHidden();
  win.dispatch('pageshow', { persisted: false });
  fake.candidate(lcp(950)); // not a new view: already reported
  handle.pageHidden();
  win.dispatch('pageshow', { persisted: true });
  fake.candidate(lcp(40, 'back-forward-cache'));
  fake.final(lcp(40, 'back-forward-cache'));
  handle.pageHidden();
  assert.deepEqual(reported.map((r) => [r.value, r.tags.navigationType]), [[900, 'navigate'], [40, 'back-forward-cache']]);
});

test('the other vitals are reported as web-vitals reports them', () => {
  const { reported, fake } = install();
  fake.report('FCP', { name: 'FCP', value: 300, rating: 'good', navigationType: 'navigate' });
  fake.report('CLS', { name: 'CLS', value: 0.02, rating: 'good' });
  fake.report('CLS', { name: 'CLS', value: 0.3, rating: 'poor' });
  assert.deepEqual(reported, [
    { name: 'FCP', value: 300, tags: { rating: 'good', navigationType: 'navigate' } },
    { name: 'CLS', value: 0.02, tags: { rating: 'good' } },
    { name: 'CLS', value: 0.3, tags: { rating: 'poor' } },
  ]);
});
