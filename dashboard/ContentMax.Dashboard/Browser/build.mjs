// Bundles the dashboard's browser monitoring (Sentry and PostHog, from npm) into
// one self-contained script, so the page loads nothing from a CDN at run time.
// Run by the dashboard's MSBuild target: node build.mjs <output file>.
import { build } from 'esbuild';

const outfile = process.argv[2];
if (!outfile) {
  console.error('usage: node build.mjs <output file>');
  process.exit(2);
}

await build({
  entryPoints: ['src/index.js'],
  outfile,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  // Licences stay with the code they belong to.
  legalComments: 'eof',
  logLevel: 'warning',
});
