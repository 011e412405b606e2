#!/usr/bin/env node
// The registry this project is built against mirrors only the platform binaries of this machine
// (linux-x64), so `npm install` leaves other platforms' optional packages (esbuild, rollup, biome
// binaries) out of package-lock.json, and `npm ci` then refuses the lock as out of sync. A normal
// lock lists them with their `os`/`cpu`/`libc`, which is what lets every machine skip the ones it
// cannot use. This fills those entries in from the package names. Run it after `npm install`.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const OS = [
  'android',
  'darwin',
  'linux',
  'win32',
  'freebsd',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
  'openharmony',
];
const CPU = {
  'arm-eabi': 'arm',
  'arm-gnueabihf': 'arm',
  'arm-musleabihf': 'arm',
  arm64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  arm: 'arm',
  riscv64: 'riscv64',
  ppc64: 'ppc64',
  s390x: 's390x',
  loong64: 'loong64',
  mips64el: 'mips64el',
  wasm32: 'wasm32',
};

function platformOf(name) {
  const base = name.split('/').pop();
  const parts = base.split('-');
  const os = parts.find((p) => OS.includes(p)) ?? (base.includes('wasm') ? 'wasm' : undefined);
  const cpuKey = Object.keys(CPU)
    .sort((a, b) => b.length - a.length)
    .find((k) => base.includes(`-${k}`));
  if (!os || !cpuKey) return undefined;
  const entry = { os: [os === 'wasm' ? '!linux' : os], cpu: [CPU[cpuKey]] };
  if (/musl/.test(base)) entry.libc = ['musl'];
  else if (os === 'linux' && /gnu/.test(base)) entry.libc = ['glibc'];
  return entry;
}

const path = new URL('../package-lock.json', import.meta.url);
// Installed as a package (npm publishes no lock file), there is no lock to complete.
if (!existsSync(path)) process.exit(0);
const lock = JSON.parse(readFileSync(path, 'utf8'));
let added = 0;
for (const [where, pkg] of Object.entries(lock.packages)) {
  for (const [dep, range] of Object.entries(pkg.optionalDependencies ?? {})) {
    const prefix = where ? `${where}/node_modules/` : 'node_modules/';
    if (lock.packages[`${prefix}${dep}`] || lock.packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) {
      console.warn(`complete-lockfile: cannot tell the platform of ${dep}; left out`);
      continue;
    }
    lock.packages[`node_modules/${dep}`] = {
      version: String(range).replace(/^[\^~=]/, ''),
      dev: pkg.dev,
      optional: true,
      ...platform,
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
