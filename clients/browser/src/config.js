// The settings come from the embedding <script> tag's data attributes, so a page
// needs one line and no inline code (which a strict CSP would block):
//   <script src="https://INGESTION/sdk/contentmax.js" data-key="INGEST_KEY" async></script>

const SDK_PATH = '/sdk/contentmax.js';

// The <script> element that loaded this file. document.currentScript is set while
// a classic script (async or not) first runs; the selector is for the rare loader
// that runs it some other way.
export function findScript(document) {
  const current = document.currentScript;
  if (current && current.src) {
    return current;
  }

  return document.querySelector(`script[data-key][src*="${SDK_PATH}"]`);
}

// { endpoint, key, service, sampleRate, errors }, or null (with a console warning) when
// the tag cannot work: the page must go on without monitoring, never break.
export function readConfig(script, baseUrl) {
  if (!script) {
    warn('the <script> tag that loaded contentmax.js was not found; nothing is reported.');
    return null;
  }

  const data = script.dataset || {};
  const key = (data.key || '').trim();
  if (!key) {
    warn('data-key (an ingest key) is missing on the <script> tag; nothing is reported.');
    return null;
  }

  const endpoint = readEndpoint(data.endpoint, script.src, baseUrl);
  if (!endpoint) {
    warn(`data-endpoint "${data.endpoint}" is not an http(s) URL; nothing is reported.`);
    return null;
  }

  return {
    endpoint,
    key,
    service: (data.service || '').trim() || null,
    sampleRate: readSampleRate(data.sampleRate),
    // data-errors="off" for pages whose errors another tool already counts.
    errors: !/^(off|false|0)$/i.test((data.errors || '').trim()),
  };
}

// data-endpoint may carry a path (ingestion behind a proxy at /monitoring); without
// it the script's own origin is ingestion, since ingestion serves the script.
export function readEndpoint(configured, scriptSrc, baseUrl) {
  try {
    if (configured && configured.trim()) {
      const url = new URL(configured.trim(), baseUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return null;
      }

      return (url.origin + url.pathname).replace(/\/+$/, '');
    }

    const url = new URL(scriptSrc, baseUrl);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

// The share of page views that report web vitals (errors and track() always report).
export function readSampleRate(text) {
  if (text === undefined || text === null || String(text).trim() === '') {
    return 1;
  }

  const rate = Number(text);
  if (Number.isFinite(rate) && rate >= 0 && rate <= 1) {
    return rate;
  }

  warn(`data-sample-rate "${text}" is not a number from 0 to 1; every page view reports.`);
  return 1;
}

export function warn(message) {
  try {
    console.warn(`ContentMax: ${message}`);
  } catch {
    // No console (old embedded browsers): stay silent.
  }
}
