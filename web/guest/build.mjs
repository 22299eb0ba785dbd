// Builds the guest page's scripts into static/, which the Go package
// embeds: the page (with livekit-client) and livekit-client's E2EE worker.
// `make web` runs it after `npm ci`.
import * as esbuild from 'esbuild';

const common = { bundle: true, minify: true, target: 'es2020', logLevel: 'warning', legalComments: 'linked' };
await esbuild.build({
  ...common,
  entryPoints: ['src/guest.js'],
  outfile: 'static/guest.js',
  format: 'iife',
  loader: { '.txt': 'text' },
});
await esbuild.build({
  ...common,
  entryPoints: ['livekit-client/e2ee-worker'],
  outfile: 'static/e2ee-worker.js',
  format: 'iife',
});
