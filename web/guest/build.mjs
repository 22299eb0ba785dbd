// Builds the guest page's scripts into static/, which the Go package
// embeds: the page (with livekit-client) and livekit-client's E2EE worker.
// `make web` runs it after `npm ci`.
//
// It also writes bundled-packages.json: which npm packages' code went into
// those scripts, and which of their files, for debian/copyright (the
// scripts are in callboxd's binary). livekit-client ships its dependencies
// already bundled in its dist files, so their source maps are read too.
import * as esbuild from 'esbuild';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';

const common = { bundle: true, minify: true, target: 'es2020', logLevel: 'warning', legalComments: 'linked', metafile: true };
const page = await esbuild.build({
  ...common,
  entryPoints: ['src/guest.js'],
  outfile: 'static/guest.js',
  format: 'iife',
  loader: { '.txt': 'text' },
});
const worker = await esbuild.build({
  ...common,
  entryPoints: ['livekit-client/e2ee-worker'],
  outfile: 'static/e2ee-worker.js',
  format: 'iife',
});

// A path inside a package: the last node_modules/<name>/ in it, so that
// pnpm's node_modules/.pnpm/<name>@<version>/node_modules/<name>/ works.
const inPackage = /^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/.][^/]*)\/(.*)$/;
// pnpm's folder names the version that was bundled, which may not be the
// one npm installed here.
const pnpmVersion = /\/\.pnpm\/(?:@[^/]+\+)?[^/@]+@([^/_]+)[^/]*\/node_modules\//;
const packages = new Map(); // name → { version, files relative to the package }
function add(file) {
  const m = file.match(inPackage);
  if (!m) return;
  if (!packages.has(m[1])) {
    const v = file.match(pnpmVersion);
    packages.set(m[1], {
      version: v ? v[1] : JSON.parse(readFileSync(`node_modules/${m[1]}/package.json`, 'utf8')).version,
      files: new Set(),
    });
  }
  packages.get(m[1]).files.add(m[2]);
}
for (const { metafile } of [page, worker]) {
  for (const input of Object.keys(metafile.inputs)) {
    add(input);
    const map = input + '.map';
    if (input.includes('node_modules/') && existsSync(map)) {
      for (const source of JSON.parse(readFileSync(map, 'utf8')).sources) {
        add(path.join(path.dirname(input), source));
      }
    }
  }
}
const list = [...packages].sort(([a], [b]) => a.localeCompare(b)).map(([name, { version, files }]) => ({
  name, version, files: [...files].sort(),
}));
writeFileSync('bundled-packages.json', JSON.stringify(list, null, 1) + '\n');
