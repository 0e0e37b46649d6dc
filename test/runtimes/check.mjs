// The checks every runtime runs against the installed package, with web-standard APIs only (no
// node: modules, no Buffer), so the same file runs in Node, Bun, Deno, a page and a Web Worker.
// It reports what it computed; test/runtimes.test.ts compares that with published values.

/** @param {Uint8Array} bytes */
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** @param {string} text */
const unhex = (text) => Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));

const ascii = (/** @type {string} */ text) => new TextEncoder().encode(text);

// The README's key (the same as examples/usage.ts), whose id and aux hash the README gives.
export const README_KEY =
  0x6d9975017ca9c51630d28f74a1b7ac12cd9021b7be10379fbc81d0bdf00fb95086f15b1f2de70130c51dcab2fca8e8f8d06188ba9456e09e7a3fc5cd96bed72659b3ed7816a035bb4727b12eaa3a95f970cbbf9cca25f60add99b594189cc53dbf4c63b431b87c79cefae83919d9788e59ba4db460e154347e9aeed598b86de41b0ddd8d2e5cf5d03537b9001e37101f7fdde46e208c712b8ee753c81776f037cc45deb4875c9ce1460c68bf340e92b10042c1c368a34c43dc948a5aaa8190dfad6a0c2b863b770fe6c0478f3f1462125247bdb7c0e92333cb35ee405ff3cec72c48ce14709731f2db05c9e68bda5953916f5e89071edad84c49502cda2bb17n;

/** Which runtime this is, for the test's log. */
function runtime() {
  const g = /** @type {any} */ (globalThis);
  if (g.Deno?.version) return `deno ${g.Deno.version.deno}`;
  if (g.Bun?.version) return `bun ${g.Bun.version}`;
  if (g.process?.versions?.node) return `node ${g.process.versions.node}`;
  return g.navigator?.userAgent ?? 'unknown';
}

/**
 * Runs the checks.
 * @param {typeof import('mtproto-authkey')} lib the package as this runtime loaded it
 * @param {{ packet: string, data: string }} input a packet that Node encrypted (x = 0, a
 *   client's) under README_KEY, and the plaintext to encrypt here as the server's reply
 */
export async function check(lib, input) {
  const out = { runtime: runtime() };

  // FIPS 180-4 / RFC 3174 examples; the million 'a' streamed in 1000-byte pieces.
  out.sha1Abc = hex(lib.sha1(ascii('abc')));
  out.sha1Empty = hex(lib.sha1(new Uint8Array(0)));
  out.sha1TwoBlock = hex(lib.sha1(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')));
  const stream = new lib.Sha1();
  const piece = ascii('a'.repeat(1000));
  for (let i = 0; i < 1000; i++) stream.update(piece);
  out.sha1Million = hex(stream.digest());

  // The README's key: id and aux hash.
  const key = new lib.AuthKey(README_KEY);
  out.id = key.id.toString(16);
  out.auxHash = key.auxHash.toString(16);
  out.idBytes = hex(key.idBytes);

  // examples/usage.ts: store, find by id, find by a packet's first 8 bytes.
  const manager = new lib.AuthKeyManager();
  await manager.setKey(README_KEY);
  const found = await manager.getKey(key.id);
  const packet = new Uint8Array(72);
  packet.set(found.idBytes, 0);
  const peeked = manager.peekKey(packet);
  out.usage = {
    value: found.value === README_KEY,
    hash: found.hash.toString(16),
    peeked: peeked !== undefined && peeked.equals(key),
    shown: `${peeked}`,
  };

  // Messages: Node's packet decrypted here, and a reply encrypted here for Node to decrypt.
  out.decrypted = hex(key.decryptMessage(unhex(input.packet), 'client'));
  const received = manager.decryptPacket(unhex(input.packet));
  out.managerDecrypted = received === undefined ? null : hex(received.data);
  out.reply = hex(key.encryptMessage(unhex(input.data), 'server'));
  const tampered = unhex(input.packet);
  tampered[tampered.length - 1] ^= 1;
  try {
    key.decryptMessage(tampered, 'client');
    out.tampered = 'accepted';
  } catch (e) {
    out.tampered = e instanceof lib.MessageRejected ? 'MessageRejected' : String(e);
  }
  return out;
}
