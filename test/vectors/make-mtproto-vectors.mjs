#!/usr/bin/env node
// Writes test/vectors/mtproto2.json: MTProto 2.0 packets made by GramJS (the `telegram` npm
// package, a devDependency pinned exactly), a client library independent of mtproto-authkey.
// Run: node test/vectors/make-mtproto-vectors.mjs
//
// The auth key is the 'full' key of auth-keys.json (Python hashlib vectors). GramJS's random
// source for padding (Helpers.generateRandomBytes) is replaced by a deterministic one, so the
// output is the same on every run and the padding bytes can be recorded.
//
// Directions (network/MTProtoState.js of GramJS):
// - client -> server, x = 0: GramJS's own MTProtoState#encryptMessageData, which prepends salt and
//   session id, pads with mod(-(len + 12), 16) + 12 random bytes, takes msg_key from
//   substr(auth_key, 88, 32) and the AES key/IV from _calcKey(client = true).
// - server -> client, x = 8: GramJS only decrypts these (MTProtoState#decryptMessageData: msg_key
//   from substr(auth_key, 96, 32), _calcKey(client = false)), so each packet is built from GramJS's
//   own pieces with the same slices (Helpers.sha256, MTProtoState#_calcKey(..., false), IGE) and
//   then handed to GramJS's decryptMessageData, which must accept it and parse its msgs_ack body.
//   These carry paddings from 12 up to 1024 bytes (GramJS's decryption ignores the padding length).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const version = require('telegram/package.json').version;
const Helpers = require('telegram/Helpers');
const { AuthKey } = require('telegram/crypto/AuthKey');
const { IGE } = require('telegram/crypto/IGE');
const { MTProtoState } = require('telegram/network/MTProtoState');
const bigInt = require('big-integer');

// Deterministic bytes: SHA-256 in counter mode over a label (not a secret, just reproducible).
function detBytes(label, n) {
  const out = Buffer.alloc(n);
  for (let i = 0, at = 0; at < n; i++, at += 32) {
    createHash('sha256').update(`${label}/${i}`).digest().copy(out, at);
  }
  return out;
}

// The padding GramJS asks for is whatever generateRandomBytes returns: record each call.
let paddingCalls = [];
let paddingLabel = '';
Helpers.generateRandomBytes = (count) => {
  const b = detBytes(`padding/${paddingLabel}`, count);
  paddingCalls.push(b);
  return b;
};

const keys = JSON.parse(readFileSync(join(here, 'auth-keys.json'), 'utf8'));
const keyBytes = Buffer.from(keys.keys.full.bytes, 'hex');
const authKey = new AuthKey();
await authKey.setKey(keyBytes);
const keyIdBytes = Helpers.readBufferFromBigInt(authKey.keyId, 8);
if (keyIdBytes.toString('hex') !== keys.keys.full.hash.slice(24)) throw new Error('GramJS key id differs from the hashlib vector');

const state = new MTProtoState(authKey, undefined);
const salt = bigInt('f122334455667788', 16).subtract(bigInt('10000000000000000', 16)); // a negative long, as GramJS keeps signed longs
state.salt = salt;
state.id = bigInt('5a5a0102030405a6', 16);
const saltBytes = Helpers.toSignedLittleBuffer(salt, 8);
const sessionBytes = Helpers.toSignedLittleBuffer(state.id, 8);

const MSGS_ACK = 0x62d6b459;
const VECTOR = 0x1cb5c415;
/** msgs_ack#62d6b459 msg_ids:Vector<long>: a TL object GramJS's reader parses. */
function msgsAck(ids) {
  const b = Buffer.alloc(12 + 8 * ids.length);
  b.writeUInt32LE(MSGS_ACK, 0);
  b.writeUInt32LE(VECTOR, 4);
  b.writeUInt32LE(ids.length, 8);
  ids.forEach((id, i) => b.writeBigUInt64LE(id, 12 + 8 * i));
  return b;
}

/** msg_id ‖ seq_no ‖ message_data_length ‖ body, as GramJS's writeDataAsMessage lays it out. */
function framed(msgId, seqNo, body) {
  const head = Buffer.alloc(16);
  head.writeBigUInt64LE(msgId, 0);
  head.writeInt32LE(seqNo, 8);
  head.writeInt32LE(body.length, 12);
  return Buffer.concat([head, body]);
}

const vectors = [];
let msgId = 0x65f0a1b200000004n;

// client -> server (x = 0): GramJS's encryptMessageData.
const clientBodies = [
  ['msgs_ack of 0 ids', msgsAck([])],
  ['msgs_ack of 1 id', msgsAck([0x65f0a1b200001001n])],
  ['msgs_ack of 2 ids', msgsAck([1n, 2n])],
  ['4 bytes', detBytes('body/4', 4)],
  ['8 bytes', detBytes('body/8', 8)],
  ['16 bytes', detBytes('body/16', 16)],
  ['24 bytes', detBytes('body/24', 24)],
  ['100 bytes', detBytes('body/100', 100)],
  ['1000 bytes', detBytes('body/1000', 1000)],
  ['16000 bytes', detBytes('body/16000', 16000)],
];
for (const [name, body] of clientBodies) {
  msgId += 4n;
  const data = framed(msgId, 1, body);
  paddingCalls = [];
  paddingLabel = `client/${name}`;
  const packet = await state.encryptMessageData(data);
  if (paddingCalls.length !== 1) throw new Error(`expected one padding draw, got ${paddingCalls.length}`);
  const padding = paddingCalls[0];
  const msgKey = packet.subarray(8, 24);
  const { key, iv } = await state._calcKey(keyBytes, msgKey, true);
  vectors.push({
    name: `client: ${name}`,
    sender: 'client',
    data: Buffer.concat([saltBytes, sessionBytes, data]).toString('hex'),
    padding: padding.toString('hex'),
    msgKey: Buffer.from(msgKey).toString('hex'),
    aesKey: key.toString('hex'),
    aesIv: iv.toString('hex'),
    packet: packet.toString('hex'),
  });
}

// server -> client (x = 8): GramJS's pieces with the server's slices, then GramJS's decryption.
const serverCases = [
  ['msgs_ack of 0 ids, least padding', 0, 0],
  ['msgs_ack of 1 id, least padding', 1, 0],
  ['msgs_ack of 2 ids, 3 blocks more padding', 2, 3],
  ['msgs_ack of 3 ids, 10 blocks more padding', 3, 10],
  ['msgs_ack of 7 ids, padding near 1024', 7, -1],
  ['msgs_ack of 50 ids, least padding', 50, 0],
  ['msgs_ack of 2000 ids, 1 block more padding', 2000, 1],
];
for (const [name, count, extraBlocks] of serverCases) {
  msgId += 4n;
  const ids = Array.from({ length: count }, (_, i) => 0x65f0a1b200100000n + BigInt(i) * 4n);
  const inner = framed(msgId + 1n, 3, msgsAck(ids)); // server msg_ids are 1 mod 4
  const data = Buffer.concat([saltBytes, sessionBytes, inner]);
  const least = Helpers.mod(-(data.length + 12), 16) + 12;
  const padLen = extraBlocks >= 0 ? least + 16 * extraBlocks : least + 16 * Math.floor((1024 - least) / 16);
  if (padLen > 1024) throw new Error('padding above 1024');
  const padding = detBytes(`padding/server/${name}`, padLen);
  const plain = Buffer.concat([data, padding]);
  const msgKey = Helpers.sha256(Buffer.concat([keyBytes.subarray(96, 128), plain])).subarray(8, 24);
  const { key, iv } = await state._calcKey(keyBytes, msgKey, false);
  const packet = Buffer.concat([keyIdBytes, msgKey, new IGE(key, iv).encryptIge(plain)]);
  // GramJS must accept it as a message from the server and read back the same message.
  const message = await state.decryptMessageData(Buffer.from(packet));
  if (message.msgId.toString() !== String(msgId + 1n) || message.seqNo !== 3) throw new Error(`GramJS read back another message for ${name}`);
  const got = (message.obj.msgIds ?? []).map((v) => v.toString());
  if (got.join() !== ids.map(String).join()) throw new Error(`GramJS read back other ids for ${name}`);
  vectors.push({
    name: `server: ${name}`,
    sender: 'server',
    data: data.toString('hex'),
    padding: padding.toString('hex'),
    msgKey: Buffer.from(msgKey).toString('hex'),
    aesKey: key.toString('hex'),
    aesIv: iv.toString('hex'),
    packet: packet.toString('hex'),
  });
}

const out = {
  source: `GramJS (npm telegram ${version}): network/MTProtoState.js encryptMessageData (client), _calcKey, crypto/IGE.js, Helpers.sha256; decryptMessageData accepted every server packet. Made by test/vectors/make-mtproto-vectors.mjs with deterministic padding.`,
  telegram: version,
  authKey: keyBytes.toString('hex'),
  authKeyId: keyIdBytes.toString('hex'),
  vectors,
};
writeFileSync(join(here, 'mtproto2.json'), JSON.stringify(out, null, 2) + '\n');
console.log(`wrote ${vectors.length} vectors from GramJS ${version} to test/vectors/mtproto2.json`);
