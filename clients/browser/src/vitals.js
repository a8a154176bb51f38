// Core Web Vitals and the other page-load metrics, measured by Google's web-vitals.
// Each is reported as web-vitals reports it: once per page view for LCP, FCP and
// TTFB; CLS and INP when the page is hidden (again, with a larger value, if the
// page is shown and hidden again), and anew after a back/forward-cache restore.
// Values are milliseconds, CLS a unitless score.
import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';

export function installVitals(report) {
  const record = (metric) => report(metric.name, metric.value, {
    rating: metric.rating,
    ...(metric.navigationType ? { navigationType: metric.navigationType } : {}),
  });
  for (const on of [onLCP, onINP, onCLS, onFCP, onTTFB]) {
    on(record);
  }
}
