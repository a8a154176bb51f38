// Entry point of the dashboard's browser monitoring bundle (wwwroot/js/monitoring.js).
// Each tool starts only when the server configured it; with neither configured
// the script does nothing.
import { readConfig } from './config.js';
import { initSentry } from './sentry.js';
import { initPostHog } from './posthog.js';
import { installDiagnostics } from './diagnostics.js';

const config = readConfig(document);
if (config) {
  let analytics = null;

  // A browser error is a Sentry issue (the technical view) and, when PostHog is
  // on, an error_occurred product event linked to it by the Sentry event id.
  const onBrowserError = (event) => {
    if (!analytics) {
      return;
    }

    const exception = event.exception && event.exception.values && event.exception.values[0];
    analytics.capture('error_occurred', {
      error_message: exception ? `${exception.type}: ${exception.value}` : event.message || 'unknown error',
      context: { source: 'browser', sentry_event_id: event.event_id, path: window.location.pathname },
      timestamp: new Date().toISOString(),
    });
  };

  initSentry(config.sentry, config.operator, onBrowserError);
  analytics = initPostHog(config.posthog, config.operator);
  installDiagnostics(document);
}
