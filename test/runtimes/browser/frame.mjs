// One document on the page's main thread. Its query says how it loads the core:
// - init: `await init()` first, the documented way for browsers;
// - sync: no init, the core compiled synchronously on first use (current Chromium allows it up to 8 MB);
// - refused: frame.html made synchronous compilation of modules over 4 KB throw, as Chromium did
//   before it raised the limit: the first call must fail with an error naming init(), and
//   everything must work after `await init()`.
import * as lib from 'mtproto-authkey';
import { check } from '../check.mjs';
import { input } from '../input.mjs';

const mode = new URLSearchParams(location.search).get('mode');

async function run() {
  if (mode === 'init') {
    await lib.init();
    return { mode, result: await check(lib, input) };
  }
  if (mode === 'sync') return { mode, result: await check(lib, input) };
  let refusal = null;
  try {
    lib.sha1(new Uint8Array(1));
  } catch (e) {
    refusal = { name: e.name, message: e.message, cause: e.cause ? `${e.cause.name}: ${e.cause.message}` : null };
  }
  const wasRefused = globalThis.refusedCompiles;
  await lib.init();
  return { mode, refusal, wasRefused, result: await check(lib, input) };
}

run().then(
  (report) => parent.postMessage(report, '*'),
  (e) => parent.postMessage({ mode, error: String(e && e.stack ? e.stack : e) }, '*'),
);
