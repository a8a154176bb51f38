// The outgoing queue: points wait here and leave in batches, so a page sends a
// few requests instead of one per measurement.
//
// - A batch leaves a few seconds after the first point was queued, at once when
//   the queue reaches flushAt points, and whenever the page is hidden (index.js).
// - A point added with { soon: true } (a final web vital) makes the batch leave
//   within `soon` ms instead, so it does not wait for the page to be hidden.
// - Each request stays under maxBytes (sendBeacon's quota is 64 KB in flight per
//   page) and ingestion's 1000 points.
// - The queue is bounded: past maxQueue points the oldest are dropped and
//   counted, so a page that cannot reach ingestion does not grow without end.

export const MAX_BATCH_BYTES = 60 * 1000;
export const MAX_BATCH_POINTS = 1000;

export function createQueue({
  send,
  maxQueue = 1000,
  flushAt = 100,
  interval = 5000,
  soon = 1000,
  maxBytes = MAX_BATCH_BYTES,
  maxPoints = MAX_BATCH_POINTS,
  timers = globalThis,
}) {
  let items = [];
  let timer = 0;
  let timerDelay = 0;
  const stats = { dropped: 0, sent: 0, failed: 0 };

  function add(point, { soon: hurry = false } = {}) {
    const json = JSON.stringify(point);
    items.push({ json, bytes: utf8Length(json), tries: 0 });
    trim();
    if (items.length >= flushAt) {
      schedule(0);
    } else if (hurry && (!timer || timerDelay > soon)) {
      schedule(soon);
    } else if (!timer) {
      schedule(interval);
    }
  }

  // Sends everything queued now. Synchronous up to the point the browser has
  // the beacons, so it works from pagehide and visibilitychange.
  function flush() {
    if (timer) {
      timers.clearTimeout(timer);
      timer = 0;
    }

    if (items.length === 0) {
      return;
    }

    const pending = items;
    items = [];
    const { batches, oversized } = split(pending, maxBytes, maxPoints);
    stats.dropped += oversized;
    for (const batch of batches) {
      stats.sent += batch.length;
      send(body(batch), (retryable) => failed(batch, retryable));
    }
  }

  // A batch the fallback could not deliver. Ingestion stores each id once, so
  // sending it again is safe; one more try, then it counts as dropped.
  function failed(batch, retryable) {
    stats.sent -= batch.length;
    stats.failed += batch.length;
    const again = retryable ? batch.filter((item) => item.tries++ < 1) : [];
    stats.dropped += batch.length - again.length;
    if (again.length > 0) {
      items = again.concat(items);
      trim();
      if (!timer) schedule(interval);
    }
  }

  function trim() {
    const over = items.length - maxQueue;
    if (over > 0) {
      items.splice(0, over);
      stats.dropped += over;
    }
  }

  function schedule(delay) {
    if (timer) timers.clearTimeout(timer);
    timerDelay = delay;
    timer = timers.setTimeout(() => {
      timer = 0;
      flush();
    }, delay);
  }

  return {
    add,
    flush,
    stats,
    get length() {
      return items.length;
    },
  };
}

// Groups queued items into request bodies of at most maxBytes and maxPoints.
// An item that alone is over maxBytes cannot be sent by beacon and is left out.
export function split(items, maxBytes, maxPoints) {
  const batches = [];
  let oversized = 0;
  let current = [];
  let size = 2; // "[" and "]"
  for (const item of items) {
    if (item.bytes + 2 > maxBytes) {
      oversized++;
      continue;
    }

    const added = item.bytes + (current.length > 0 ? 1 : 0); // "," between items
    if (current.length > 0 && (size + added > maxBytes || current.length >= maxPoints)) {
      batches.push(current);
      current = [];
      size = 2;
    }

    size += item.bytes + (current.length > 0 ? 1 : 0);
    current.push(item);
  }

  if (current.length > 0) batches.push(current);
  return { batches, oversized };
}

export function body(batch) {
  return `[${batch.map((item) => item.json).join(',')}]`;
}

// Bytes of the UTF-8 encoding, without allocating it.
export function utf8Length(text) {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair is one 4-byte character
      i++;
    } else bytes += 3;
  }

  return bytes;
}
