#!/usr/bin/env python3
"""Writes test/vectors/auth-keys.json: auth key vectors computed with Python's hashlib, a tool
independent of mtproto-authkey. Run: python3 test/vectors/make-vectors.py"""
import hashlib
import json
import os
import random

r = random.Random(20261129)
keys = {
    # A full 2048-bit key (top byte non-zero).
    'full': bytes([r.randrange(1, 256)] + [r.randrange(256) for _ in range(255)]),
    # Three leading zero bytes: the big-endian form must keep them.
    'leadingZeros': bytes(3) + bytes([r.randrange(1, 256)] + [r.randrange(256) for _ in range(252)]),
    # The placeholder number of mtpylon's AuthKey documentation, as a (small) key padded to 256 bytes.
    'small': (0x32234234).to_bytes(256, 'big'),
}
new_nonce = bytes(range(0x20, 0x40))
out = {'newNonce': new_nonce.hex(), 'keys': {}}
for name, key in keys.items():
    digest = hashlib.sha1(key).digest()
    h = int.from_bytes(digest, 'big')
    out['keys'][name] = {
        'bytes': key.hex(),
        'value': hex(int.from_bytes(key, 'big')),
        'hash': '%040x' % h,
        'id': '%016x' % (h & (2**64 - 1)),
        'auxHash': '%016x' % (h >> 96),
        # new_nonce_hash n = 128 lower-order bits of SHA1(new_nonce + byte n + aux_hash bytes)
        'newNonceHash': {n: hashlib.sha1(new_nonce + bytes([n]) + digest[:8]).digest()[-16:].hex() for n in (1, 2, 3)},
    }
with open(os.path.join(os.path.dirname(__file__), 'auth-keys.json'), 'w') as f:
    json.dump(out, f, indent=2)
    f.write('\n')
