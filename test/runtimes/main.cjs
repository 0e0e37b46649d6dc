// Node and Bun: the package by name through require() (require of an ES module, Node >= 20.19).
const lib = require('mtproto-authkey');

Promise.all([import('./check.mjs'), import('./input.mjs')])
  .then(([{ check }, { input }]) => check(lib, input))
  .then((out) => console.log(JSON.stringify(out)));
