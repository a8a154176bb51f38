// Bundles the ContentMax browser snippet (src/, with web-vitals from npm) into one
// self-contained script that ingestion serves at /sdk/contentmax.js, so pages load
// nothing from a CDN. Run by ingestion's BrowserSdk.targets: node build.mjs <output file>.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const outfile = process.argv[2];
if (!outfile) {
  console.error('usage: node build.mjs <output file>');
  process.exit(2);
}

const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const webVitals = JSON.parse(readFileSync('node_modules/web-vitals/package.json', 'utf8')).version;

await build({
  entryPoints: ['src/index.js'],
  outfile,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  define: { __CONTENTMAX_SDK_VERSION__: JSON.stringify(version) },
  // web-vitals' minified build carries no licence comment; the Apache-2.0 notice travels in the banner.
  banner: { js: `/*! ContentMax browser SDK ${version} | includes web-vitals ${webVitals}, (c) Google LLC, Apache-2.0 */` },
  legalComments: 'eof',
  logLevel: 'warning',
});
