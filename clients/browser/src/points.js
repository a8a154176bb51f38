// Metric points in ingestion's format, checked here against the same rules
// ingestion applies (MetricRules). A batch is all-or-nothing there, so one bad
// point from contentmax.track() would otherwise lose every point sent with it.

const NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,199}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
export const MAX_TAGS = 32;
const MAX_TAG_KEY = 100;
const MAX_TAG_VALUE = 200;
const MAX_URL = 2048;

export function isValidName(name) {
  return typeof name === 'string' && NAME.test(name);
}

// Tag values may be strings, finite numbers or booleans; strings are cut to
// ingestion's limit. Returns null when a key or value cannot be sent.
export function cleanTags(tags) {
  const clean = {};
  if (tags === undefined || tags === null) {
    return clean;
  }

  if (typeof tags !== 'object' || Array.isArray(tags)) {
    return null;
  }

  for (const key of Object.keys(tags)) {
    const value = tags[key];
    if (key.length === 0 || key.length > MAX_TAG_KEY || HAS_CONTROL.test(key)) {
      return null;
    }

    if (typeof value === 'string') {
      clean[key] = cleanText(value, MAX_TAG_VALUE);
    } else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') {
      clean[key] = value;
    } else if (value !== undefined) {
      return null;
    }
  }

  return clean;
}

export function cleanText(text, max) {
  return String(text).replace(CONTROL, '').slice(0, max);
}

// Tags the caller gave win over the automatic ones (route, service), and the
// total stays within ingestion's 32.
export function mergeTags(automatic, given) {
  const tags = { ...automatic, ...given };
  return Object.keys(tags).length <= MAX_TAGS ? tags : null;
}

export function point(metric, value, tags, page) {
  return {
    metric,
    value,
    // No timestamp: ingestion stamps arrival. Points leave within seconds, and
    // a browser clock that is off by more than ten minutes would otherwise get
    // the whole batch rejected.
    url: page.url,
    userAgent: page.userAgent,
    tags,
    // Ingestion stores a point with a client-chosen id at most once, so a batch
    // sent again (the fetch fallback after a beacon) is never counted twice.
    id: uuid(),
  };
}

// The page's address without query and fragment (they often carry tokens), and
// the user agent, within ingestion's limits.
export function pageInfo(location, navigator) {
  return {
    url: cleanText(`${location.origin}${location.pathname}`, MAX_URL),
    userAgent: cleanText((navigator && navigator.userAgent) || '', MAX_URL) || undefined,
  };
}

// A random (version 4) UUID. crypto.randomUUID exists only on https pages;
// getRandomValues works everywhere.
export function uuid() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch {
      // Not a secure context: fall through.
    }
  }

  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') {
    c.getRandomValues(bytes);
  } else {
    for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  }

  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
