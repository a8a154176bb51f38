// The `route` tag. Every distinct tag value is a series to store and a row in a
// breakdown, so /orders/18213 and /orders/18214 must both be /orders/:id.
// Only the path counts: query strings and fragments often carry tokens.

const MAX_ROUTE = 200; // ingestion's longest tag value

const NUMBER = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Object ids and hashes: 12 or more hex digits with at least one digit, so
// words such as "facade" or "deadbeef" stay.
const HEX_ID = /^(?=[a-f]*\d)[0-9a-f]{12,}$/i;
// Long opaque tokens with at least one digit: 24 or more letters and digits, or
// base64url (mixed case, '-' and '_'). A lower-case slug such as
// "how-to-bake-bread-in-2024" is a word, not a token, and stays.
const TOKEN = /^(?=.*\d)(?:[A-Za-z0-9]{24,}|(?=.*[a-z])(?=.*[A-Z])[A-Za-z0-9_-]{24,})$/;

export function isIdSegment(segment) {
  return NUMBER.test(segment) || UUID.test(segment) || HEX_ID.test(segment) || TOKEN.test(segment);
}

// "/orders/18213/items/" → "/orders/:id/items". A trailing slash is dropped so
// both spellings of a page are one route.
export function normaliseRoute(pathname) {
  const path = typeof pathname === 'string' && pathname.startsWith('/') ? pathname : '/';
  const route = path
    .split('/')
    .map((segment) => (isIdSegment(segment) ? ':id' : segment))
    .join('/')
    .replace(/\/+$/, '');
  return cleanRoute(route || '/');
}

// The page may name its routes itself (contentmax.route = (location) => '/orders/:id');
// whatever it returns is kept within the tag rules, and a failing or empty answer
// falls back to the default.
export function routeOf(location, pageRoute) {
  if (typeof pageRoute === 'function') {
    try {
      const named = pageRoute(location);
      if (typeof named === 'string' && named.trim()) {
        return cleanRoute(named.trim());
      }
    } catch {
      // The page's function failed: the default still gives a usable route.
    }
  }

  return normaliseRoute(location && location.pathname);
}

function cleanRoute(route) {
  // eslint-disable-next-line no-control-regex
  return route.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, MAX_ROUTE) || '/';
}
