// Uncaught errors and unhandled promise rejections, counted as the metric
// `errors` (value 1, level=error). Only the error's type becomes a tag: messages
// carry ids, URLs and user data, and every distinct tag value is a new series.

const MAX_TYPE = 100;
// An error loop (a failing requestAnimationFrame callback) would otherwise send
// thousands of points a minute; past this many per page view they are dropped and counted.
export const MAX_ERRORS_PER_PAGE = 100;

export function installErrorCapture(window, report) {
  // Script errors reach window's bubbling listeners as ErrorEvents; failed image or
  // script loads do not (they only reach capturing ones), and are not code errors.
  window.addEventListener('error', (event) => {
    report(typeOf(event && event.error, 'Error'), 'error');
  });
  window.addEventListener('unhandledrejection', (event) => {
    report(typeOf(event && event.reason, 'UnhandledRejection'), 'rejection');
  });
}

// The Error's name (TypeError, a custom class's name), or the fallback when the
// thrown value is not an Error (a string, or a cross-origin "Script error." with none).
export function typeOf(error, fallback) {
  const looksLikeError = error !== null && typeof error === 'object'
    && typeof error.name === 'string' && 'message' in error;
  if (!looksLikeError) {
    return fallback;
  }

  // eslint-disable-next-line no-control-regex
  const name = error.name.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim().slice(0, MAX_TYPE);
  return name || fallback;
}
