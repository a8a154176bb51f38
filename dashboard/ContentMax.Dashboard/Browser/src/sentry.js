// Sentry in the dashboard's browser: errors, page-load and navigation
// performance, and session replay with everything private masked or blocked.
import * as Sentry from '@sentry/browser';

// Replay privacy: all text and every input value are masked (replaced by
// asterisks of the same length), media is blocked, and these selectors are
// masked or blocked on top of Sentry's own defaults.
export const maskedSelectors = ['.sentry-mask', '[data-sentry-mask]', '.sensitive', '[data-private]'];
export const blockedSelectors = ['.sentry-block', '[data-sentry-block]', '.credit-card', '.ssn'];

// Network details are recorded only for the dashboard's own /api calls, and of
// their headers only X-Request-Id is kept.
const keptNetworkHeaders = ['x-request-id'];

export function initSentry(settings, operator, onBrowserError) {
  if (!settings || !settings.dsn) {
    return false;
  }

  const sameOriginApi = new RegExp('^' + escapeRegExp(window.location.origin) + '/api(/|$|\\?)');

  Sentry.init({
    dsn: settings.dsn,
    environment: settings.environment,
    release: settings.release,
    sendDefaultPii: false,
    tracesSampleRate: settings.tracesSampleRate,
    // Trace headers go only to the dashboard itself, never to third parties.
    tracePropagationTargets: [/^\/(?!\/)/, sameOriginApi],
    replaysSessionSampleRate: settings.replaysSessionSampleRate,
    replaysOnErrorSampleRate: settings.replaysOnErrorSampleRate,
    integrations: [
      Sentry.browserTracingIntegration(),
      Sentry.replayIntegration({
        maskAllText: true,
        maskAllInputs: true,
        blockAllMedia: true,
        mask: maskedSelectors,
        block: blockedSelectors,
        networkDetailAllowUrls: [sameOriginApi],
        networkCaptureBodies: false,
        networkRequestHeaders: ['X-Request-Id'],
        networkResponseHeaders: ['X-Request-Id'],
        beforeAddRecordingEvent: keepOnlyAllowedNetworkHeaders,
      }),
    ],
    beforeSend(event, hint) {
      if (event.request && event.request.cookies) {
        event.request.cookies = '[Filtered]';
      }

      event.contexts = {
        ...event.contexts,
        viewport: { size: `${window.innerWidth}x${window.innerHeight}`, screen: `${window.screen.width}x${window.screen.height}` },
      };
      onBrowserError(event, hint);
      return event;
    },
    beforeBreadcrumb(breadcrumb) {
      return breadcrumb.category === 'console' && breadcrumb.level === 'debug' ? null : breadcrumb;
    },
  });

  Sentry.setTag('service', 'dashboard-browser');
  if (operator && operator.id) {
    Sentry.setUser({ id: operator.id });
  }

  return true;
}

// Sentry always records content-type, content-length and accept for allowed
// URLs; this trims recorded request and response headers to X-Request-Id alone.
export function keepOnlyAllowedNetworkHeaders(event) {
  const payload = event && event.data && event.data.payload;
  const data = payload && payload.data;
  if (data && typeof payload.op === 'string' && payload.op.startsWith('resource.')) {
    for (const part of [data.request, data.response]) {
      if (part && part.headers) {
        part.headers = Object.fromEntries(
          Object.entries(part.headers).filter(([name]) => keptNetworkHeaders.includes(name.toLowerCase())));
      }
    }
  }

  return event;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
