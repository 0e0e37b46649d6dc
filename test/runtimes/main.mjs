// Node, Bun and Deno: the package by name as ESM; prints the checks' results as JSON.
import * as lib from 'mtproto-authkey';
import { check } from './check.mjs';
import { input } from './input.mjs';

console.log(JSON.stringify(await check(lib, input)));
