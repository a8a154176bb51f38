// The settings the server renders into the page (App.razor → BrowserMonitoringScript):
// a <script type="application/json"> element, which CSP does not treat as code.
export function readConfig(document) {
  const element = document.getElementById('contentmax-monitoring');
  if (!element) {
    return null;
  }

  try {
    return JSON.parse(element.textContent || '{}');
  } catch (error) {
    console.warn('ContentMax monitoring: the page carries unreadable settings; monitoring is off.', error);
    return null;
  }
}
