import assert from 'node:assert/strict';
import { AuthKey, AuthKeyManager } from 'mtproto-authkey';

// A 2048-bit auth key, as the Diffie-Hellman handshake produces it.
const authKey =
  0x6d9975017ca9c51630d28f74a1b7ac12cd9021b7be10379fbc81d0bdf00fb95086f15b1f2de70130c51dcab2fca8e8f8d06188ba9456e09e7a3fc5cd96bed72659b3ed7816a035bb4727b12eaa3a95f970cbbf9cca25f60add99b594189cc53dbf4c63b431b87c79cefae83919d9788e59ba4db460e154347e9aeed598b86de41b0ddd8d2e5cf5d03537b9001e37101f7fdde46e208c712b8ee753c81776f037cc45deb4875c9ce1460c68bf340e92b10042c1c368a34c43dc948a5aaa8190dfad6a0c2b863b770fe6c0478f3f1462125247bdb7c0e92333cb35ee405ff3cec72c48ce14709731f2db05c9e68bda5953916f5e89071edad84c49502cda2bb17n;
const authHash = 0x321c4b7404ac1d90832daca83fed0d7b842de014n; // SHA-1 of its 256 big-endian bytes
const authKeyId = 0x3fed0d7b842de014n; // the 64 lower-order bits of authHash
const authAuxHash = 0x321c4b7404ac1d90n; // the 64 higher-order bits of authHash

const manager = new AuthKeyManager();
await manager.setKey(authKey);

const data = await manager.getKey(authKeyId);
assert.equal(data.id, authKeyId);
assert.equal(data.value, authKey);
assert.equal(data.hash, authHash);
assert.equal(data.auxHash, authAuxHash);

// On the packet path: an encrypted packet starts with the 8 auth_key_id bytes.
const packet = new Uint8Array(72);
packet.set(data.idBytes, 0);
const key = manager.peekKey(packet);
assert.ok(key?.equals(new AuthKey(authKey)));
console.log(`${key}`); // AuthKey(id=0x3fed0d7b842de014): never the key itself
