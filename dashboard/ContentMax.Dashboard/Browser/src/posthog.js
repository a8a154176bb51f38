// PostHog in the dashboard's browser: page views, page leaves and autocapture,
// and session recording where it is turned on. The "full, no external" build
// carries every extension inside the bundle and never loads a script from
// PostHog's servers, so the page works offline and under a strict CSP.
import posthog from 'posthog-js/full/no-external';

export function initPostHog(settings, operator) {
  if (!settings || !settings.key) {
    return null;
  }

  posthog.init(settings.key, {
    api_host: settings.host,
    disable_external_dependency_loading: true,
    persistence: 'localStorage',
    person_profiles: 'identified_only',
    // Blazor moves between pages with history.pushState: count those too.
    capture_pageview: 'history_change',
    capture_pageleave: true,
    autocapture: true,
    // Errors go to Sentry; the product event error_occurred is sent by the server.
    capture_exceptions: false,
    disable_surveys: true,
    disable_session_recording: !settings.sessionRecording,
    session_recording: {
      recordCrossOriginIframes: false,
      maskAllInputs: true,
      maskInputOptions: { password: true },
      maskTextSelector: '.sensitive, [data-private]',
      blockSelector: '.credit-card, .ssn',
    },
    mask_all_element_attributes: false,
    mask_all_text: false,
    bootstrap: { featureFlags: settings.bootstrapFlags || {} },
    loaded(instance) {
      // Before the first page view is captured, so every event has them.
      identifyOperator(instance, operator);
      instance.register({ app_version: settings.appVersion, environment: settings.environment });
    },
  });

  return posthog;
}

// The operator is known by an opaque id the server derives (never the key, no
// email). Signing out, or another operator signing in, starts a new identity.
function identifyOperator(instance, operator) {
  const current = instance.get_distinct_id();
  if (operator && operator.id) {
    if (current !== operator.id) {
      if (isOperatorId(current)) {
        instance.reset();
      }

      instance.identify(operator.id, { role: 'operator' });
    }
  } else if (isOperatorId(current)) {
    instance.reset();
  }
}

function isOperatorId(id) {
  return typeof id === 'string' && id.startsWith('op-');
}
