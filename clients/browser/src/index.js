// The ContentMax browser snippet, served by ingestion at /sdk/contentmax.js:
//   <script src="https://INGESTION/sdk/contentmax.js" data-key="INGEST_KEY" async></script>
// It reports Core Web Vitals (LCP, INP, CLS, FCP, TTFB), uncaught errors and
// unhandled rejections (metric `errors`), and the page's own metrics
// (contentmax.track) to ingestion's POST /api/metrics, in batches sent with
// sendBeacon. It never blocks the page and never throws into it.
import { findScript, readConfig } from './config.js';
import { installErrorCapture, MAX_ERRORS_PER_PAGE } from './errors.js';
import { cleanTags, isValidName, mergeTags, pageInfo, point } from './points.js';
import { createQueue } from './queue.js';
import { routeOf } from './route.js';
import { createTransport } from './transport.js';
import { installVitals } from './vitals.js';

// eslint-disable-next-line no-undef
const VERSION = __CONTENTMAX_SDK_VERSION__;

function start() {
  // Calls made before the script loaded wait in a stub (see README.md):
  //   window.contentmax = window.contentmax || { q: [] };
  //   contentmax.q.push(['track', 'signup_clicked', 1, { plan: 'pro' }]);
  // Each entry is [method, ...arguments] (an arguments object works too).
  const stub = window.contentmax;
  if (stub && stub.loaded) {
    return; // the tag is on the page twice: one copy reports
  }

  const config = readConfig(findScript(document), location.href);
  if (!config) {
    return;
  }

  // Beacons cannot carry headers, so the ingest key travels in ?key= (ingestion
  // accepts that for ingest keys only).
  const queue = createQueue({
    send: createTransport(`${config.endpoint}/api/metrics?key=${encodeURIComponent(config.key)}`),
  });
  // Web vitals belong to the document that was loaded, even if a single-page app
  // has since moved on with pushState; errors and track() to where the page is now.
  const loaded = new URL(location.href);
  const sampled = Math.random() < config.sampleRate;
  let errorsThisPage = 0;

  const api = {
    loaded: true,
    version: VERSION,
    sampled,
    // A page may name its routes: contentmax.route = (url) => '/orders/:id'.
    route: stub && typeof stub.route === 'function' ? stub.route : undefined,

    // contentmax.track('checkout_ms', 812, { step: 'payment' }): true when queued,
    // false when the name, value or tags break ingestion's rules (nothing is sent).
    track(name, value, tags) {
      try {
        return record(name, value, tags, new URL(location.href));
      } catch {
        return false;
      }
    },

    // Sends what is queued now (it also happens on its own).
    flush() {
      try {
        queue.flush();
      } catch {
        // Never into the page.
      }
    },

    // For debugging: points dropped (queue full, too large, undeliverable, error flood).
    get dropped() {
      return queue.stats.dropped;
    },
    get queued() {
      return queue.length;
    },

    // Stub calls pushed after the script loaded still run.
    q: {
      push(...calls) {
        calls.forEach(run);
        return 0;
      },
    },
  };

  function record(name, value, tags, where, options) {
    const given = cleanTags(tags);
    if (!isValidName(name) || typeof value !== 'number' || !Number.isFinite(value) || given === null) {
      return false;
    }

    const automatic = { route: routeOf(where, api.route) };
    if (config.service) automatic.service = config.service;
    const merged = mergeTags(automatic, given);
    if (merged === null) {
      return false;
    }

    queue.add(point(name, value, merged, pageInfo(where, navigator)), options);
    return true;
  }

  function run(call) {
    try {
      const [method, ...args] = Array.from(call);
      if (method === 'track') api.track(...args);
      else if (method === 'flush') api.flush();
    } catch {
      // A malformed stub call is skipped.
    }
  }

  window.contentmax = api;
  if (stub && typeof stub === 'object') {
    const waiting = stub.q && typeof stub.q.length === 'number' ? Array.from(stub.q) : [];
    try {
      // Code that kept a reference to the stub reaches the real thing from now on.
      stub.q = api.q;
      stub.track = api.track;
      stub.flush = api.flush;
    } catch {
      // A frozen stub: its queued calls still run below.
    }

    waiting.forEach(run);
  }

  if (config.errors) {
    installErrorCapture(window, (type, source) => {
      try {
        if (++errorsThisPage > MAX_ERRORS_PER_PAGE) {
          queue.stats.dropped++;
          return;
        }

        record('errors', 1, { level: 'error', type, source }, new URL(location.href));
      } catch {
        // Reporting an error must not raise another.
      }
    });
  }

  // A vital is final when web-vitals reports it (LCP at the first input), so it
  // leaves within a second instead of waiting for the page to be hidden: an
  // unload beacon is the last chance, and on a navigation to another site a
  // busy page can be ended before it leaves.
  let vitals = null;
  if (sampled) {
    vitals = installVitals((name, value, tags) => {
      try {
        record(name, value, tags, loaded, { soon: true });
      } catch {
        // Never into the page.
      }
    });
  }

  // Leaving, switching tabs or closing: the last chance to send. web-vitals
  // reports CLS, INP and LCP on the same visibilitychange from a capturing
  // listener on window, which runs before this one on document, so they go too.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') api.flush();
  });
  // On unload Chromium fires pagehide before visibilitychange, and when the
  // page goes to another site it may end the page while other scripts' pagehide
  // handlers still run. A capturing listener on window runs before their
  // listeners there, so LCP (see vitals.js) and the queue leave first.
  window.addEventListener('pagehide', () => {
    try {
      vitals?.pageHidden();
    } catch {
      // Never into the page.
    }
    api.flush();
  }, { capture: true });
}

try {
  start();
} catch {
  // A browser too old for this script goes without monitoring; the page goes on.
}
