// Hands one request body to the browser. sendBeacon first: the browser delivers
// it even while the page unloads, and as text/plain it needs no CORS preflight.
// When the browser refuses the beacon (its queue is over quota, or there is no
// sendBeacon), a keepalive fetch carries it instead; that is a CORS request, so
// ingestion must list the page's origin in Ingestion:AllowedOrigins for the
// answer to be readable. Nothing here may throw into the page.
export function createTransport(url, { navigator = globalThis.navigator, fetch = globalThis.fetch } = {}) {
  return function send(body, onFailed) {
    try {
      if (navigator && typeof navigator.sendBeacon === 'function'
        && navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' }))) {
        return;
      }
    } catch {
      // A beacon can throw (e.g. a URL the browser refuses); try fetch.
    }

    try {
      if (typeof fetch !== 'function') {
        onFailed(false);
        return;
      }

      fetch(url, {
        method: 'POST',
        body,
        keepalive: true,
        credentials: 'omit',
        // A CORS-safelisted type: no preflight, which a keepalive request could not wait for.
        headers: { 'Content-Type': 'text/plain' },
      }).then(
        // 429 and 503 are ingestion saying "later"; 4xx otherwise would fail again.
        (response) => {
          if (!response.ok) onFailed(response.status === 429 || response.status >= 500);
        },
        () => onFailed(true),
      );
    } catch {
      onFailed(true);
    }
  };
}
