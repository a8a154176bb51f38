// The dashboard's /diagnostics page has a button that raises an uncaught error
// in the browser, so an operator can check that browser errors (and the replay
// recorded before them) reach Sentry. Nothing happens on pages without it.
export class BrowserMonitoringTestError extends Error {
  constructor() {
    super('ContentMax browser monitoring test: this error was raised on purpose from the diagnostics page.');
    this.name = 'BrowserMonitoringTestError';
  }
}

export function installDiagnostics(document) {
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element && event.target.closest('[data-monitoring-test="browser-error"]');
    if (button) {
      // Thrown from a timer, so it is uncaught and reaches the global error handler as a real error would.
      setTimeout(() => {
        throw new BrowserMonitoringTestError();
      });
    }
  });
}
