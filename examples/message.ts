import assert from 'node:assert/strict';
import { AuthKey, AuthKeyManager, MessageRejected } from 'mtproto-authkey';

// Both ends hold the same 2048-bit auth key (here random; in practice from the DH handshake).
const authKey = new AuthKey(crypto.getRandomValues(new Uint8Array(256)));
const manager = new AuthKeyManager();
await manager.setKey(authKey);

// The plaintext of an MTProto 2.0 message: salt, session_id, msg_id, seq_no,
// message_data_length (little-endian), then message_data (here a ping#7abe77ec ping_id:long).
const body = new Uint8Array([0xec, 0x77, 0xbe, 0x7a, 1, 2, 3, 4, 5, 6, 7, 8]);
const data = new Uint8Array(32 + body.length);
const view = new DataView(data.buffer);
view.setBigUint64(0, 0x1122334455667788n, true); // server salt
view.setBigUint64(8, 0x0102030405060708n, true); // session_id
view.setBigUint64(16, BigInt(Math.floor(Date.now() / 1000)) << 32n, true); // msg_id
view.setUint32(24, 1, true); // seq_no
view.setUint32(28, body.length, true); // message_data_length
data.set(body, 32);

// The client encrypts: auth_key_id ‖ msg_key ‖ AES-256-IGE(data ‖ 12..1024 bytes of random padding).
const packet = authKey.encryptMessage(data, 'client');

// The server finds the key by the packet's first 8 bytes and decrypts in one call.
const received = manager.decryptPacket(packet); // sender 'client' by default
assert.ok(received !== undefined && received.key.equals(authKey));
assert.deepEqual(received.data, data);

// Its reply goes the other way (x = 8), padded to hide its length.
const reply = authKey.encryptMessage(data, 'server', { padding: 256 });
assert.deepEqual(authKey.decryptMessage(reply, 'server'), data);

// A tampered packet is refused with one error that does not say why.
packet[packet.length - 1] ^= 1;
assert.throws(() => manager.decryptPacket(packet), MessageRejected);
console.log(`decrypted ${received.data.length} bytes from the client and ${reply.length}-byte reply for ${received.key}`);
