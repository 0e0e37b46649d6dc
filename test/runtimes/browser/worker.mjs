// A dedicated Web Worker: no init(), since workers may compile synchronously.
import * as lib from 'mtproto-authkey';
import { check } from '../check.mjs';
import { input } from '../input.mjs';

check(lib, input).then(
  (result) => postMessage({ mode: 'worker', result }),
  (e) => postMessage({ mode: 'worker', error: String(e && e.stack ? e.stack : e) }),
);
