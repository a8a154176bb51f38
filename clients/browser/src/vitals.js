// Core Web Vitals and the other page-load metrics, measured by Google's web-vitals.
// Each is reported as web-vitals reports it: once per page view for LCP, FCP and
// TTFB; CLS and INP when the page is hidden (again, with a larger value, if the
// page is shown and hidden again), and anew after a back/forward-cache restore.
// Values are milliseconds, CLS a unitless score.
//
// LCP is final at the first input or when the page is hidden, and web-vitals
// finalises it on visibilitychange. But Chromium fires pagehide first, and on a
// navigation to another site it may end the old page before visibilitychange
// when other scripts' pagehide handlers (session replay, analytics) take long.
// So the latest LCP candidate is also kept, and pageHidden() reports it from
// the snippet's own pagehide listener if web-vitals has not yet: LCP is
// reported once per page view either way.
import * as webVitals from 'web-vitals';

export function installVitals(report, { onCLS, onFCP, onINP, onLCP, onTTFB } = webVitals, win = globalThis) {
  const record = (metric) => report(metric.name, metric.value, {
    rating: metric.rating,
    ...(metric.navigationType ? { navigationType: metric.navigationType } : {}),
  });

  // A back/forward-cache restore is a new page view with an LCP of its own.
  // Registered before web-vitals' own pageshow listeners, so it runs first.
  let view = 0;
  let lcpReportedIn = -1;
  let candidate = null;
  win.addEventListener?.('pageshow', (event) => {
    if (event.persisted) view++;
  });
  const recordLcp = (metric) => {
    if (lcpReportedIn === view) return;
    lcpReportedIn = view;
    candidate = null;
    record(metric);
  };

  onLCP(recordLcp);
  onLCP((metric) => {
    if (lcpReportedIn !== view) candidate = metric;
  }, { reportAllChanges: true });
  for (const on of [onINP, onCLS, onFCP, onTTFB]) {
    on(record);
  }

  return {
    pageHidden() {
      if (candidate) recordLcp(candidate);
    },
  };
}
