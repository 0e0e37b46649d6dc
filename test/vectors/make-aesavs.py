"""Writes test/vectors/aesavs-256.json: AES-256 known-answer tests of NIST's AES Algorithm
Validation Suite (AESAVS, https://csrc.nist.gov/projects/cryptographic-algorithm-validation-program,
KAT_AES.zip), encryption of one block with the ECB files' inputs.

- GFSbox256 (5 cases) and KeySbox256 (the first 10 cases): inputs and NIST's expected ciphertexts
  from ECBGFSbox256.rsp / ECBKeySbox256.rsp, as reproduced in public test code (the NIST archive
  itself was not reachable from the machine that made this file). Each is also checked here
  against Python's `cryptography` (OpenSSL), so a mistyped value stops the script.
- VarTxt256 (128 cases) and VarKey256 (256 cases): inputs as AESAVS defines them (case i has the
  i + 1 leading bits of the plaintext, respectively key, set; the other input zero); expected
  ciphertexts computed by Python's `cryptography`, checked against the NIST VarKey256 values
  listed below.
Run: python3 test/vectors/make-aesavs.py
"""
import json
import os
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ZERO_KEY = "00" * 32
ZERO = "00" * 16
GFSBOX = [
    ("014730f80ac625fe84f026c60bfd547d", "5c9d844ed46f9885085e5d6a4f94c7d7"),
    ("0b24af36193ce4665f2825d7b4749c98", "a9ff75bd7cf6613d3731c77c3b6d0c04"),
    ("761c1fe41a18acf20d241650611d90f1", "623a52fcea5d443e48d9181ab32c7421"),
    ("8a560769d605868ad80d819bdba03771", "38f2c7ae10612415d27ca190d27da8b4"),
    ("91fbef2d15a97816060bee1feaa49afe", "1bc704f1bce135ceb810341b216d7abe"),
]
KEYSBOX = [
    ("c47b0294dbbbee0fec4757f22ffeee3587ca4730c3d33b691df38bab076bc558", "46f2fb342d6f0ab477476fc501242c5f"),
    ("28d46cffa158533194214a91e712fc2b45b518076675affd910edeca5f41ac64", "4bf3b0a69aeb6657794f2901b1440ad4"),
    ("c1cc358b449909a19436cfbb3f852ef8bcb5ed12ac7058325f56e6099aab1a1c", "352065272169abf9856843927d0674fd"),
    ("984ca75f4ee8d706f46c2d98c0bf4a45f5b00d791c2dfeb191b5ed8e420fd627", "4307456a9e67813b452e15fa8fffe398"),
    ("b43d08a447ac8609baadae4ff12918b9f68fc1653f1269222f123981ded7a92f", "4663446607354989477a5c6f0f007ef4"),
    ("1d85a181b54cde51f0e098095b2962fdc93b51fe9b88602b3f54130bf76a5bd9", "531c2c38344578b84d50b3c917bbb6e1"),
    ("dc0eba1f2232a7879ded34ed8428eeb8769b056bbaf8ad77cb65c3541430b4cf", "fc6aec906323480005c58e7e1ab004ad"),
    ("f8be9ba615c5a952cabbca24f68f8593039624d524c816acda2c9183bd917cb9", "a3944b95ca0b52043584ef02151926a8"),
    ("797f8b3d176dac5b7e34a2d539c4ef367a16f8635f6264737591c5c07bf57a3e", "a74289fe73a4c123ca189ea1e1b49ad5"),
    ("6838d40caf927749c13f0329d331f448e202c73ef52c5f73a37ca635d4c47707", "b91d4ea4488644b56cf0812fa7fcf5fc"),
]
# NIST's first VarKey256 answers, to check the computed ones.
VARKEY_NIST = [
    "e35a6dcb19b201a01ebcfa8aa22b5759", "b29169cdcf2d83e838125a12ee6aa400",
    "d8f3a72fc3cdf74dfaf6c3e6b97b2fa6", "1c777679d50037c79491a94da76a9a35",
    "9cf4893ecafa0a0247a898e040691559", "8fbb413703735326310a269bd3aa94b2",
]


def ecb(key_hex, pt_hex):
    enc = Cipher(algorithms.AES(bytes.fromhex(key_hex)), modes.ECB()).encryptor()
    return (enc.update(bytes.fromhex(pt_hex)) + enc.finalize()).hex()


def leading_ones(bits, count):
    return (((1 << count) - 1) << (bits - count)).to_bytes(bits // 8, "big").hex()


cases = []
for pt, ct in GFSBOX:
    assert ecb(ZERO_KEY, pt) == ct, pt
    cases.append({"set": "GFSbox256", "key": ZERO_KEY, "plaintext": pt, "ciphertext": ct, "expected": "NIST"})
for key, ct in KEYSBOX:
    assert ecb(key, ZERO) == ct, key
    cases.append({"set": "KeySbox256", "key": key, "plaintext": ZERO, "ciphertext": ct, "expected": "NIST"})
for i in range(128):
    pt = leading_ones(128, i + 1)
    cases.append({"set": "VarTxt256", "key": ZERO_KEY, "plaintext": pt, "ciphertext": ecb(ZERO_KEY, pt), "expected": "cryptography"})
for i in range(256):
    key = leading_ones(256, i + 1)
    ct = ecb(key, ZERO)
    if i < len(VARKEY_NIST):
        assert ct == VARKEY_NIST[i], i
    cases.append({"set": "VarKey256", "key": key, "plaintext": ZERO, "ciphertext": ct, "expected": "NIST" if i < len(VARKEY_NIST) else "cryptography"})

out = {
    "source": "NIST AESAVS known-answer tests for AES-256 (ECB GFSbox, KeySbox, VarTxt, VarKey); see test/vectors/make-aesavs.py for which values are NIST's and which were computed by Python cryptography (OpenSSL)",
    "cases": cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "aesavs-256.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(len(cases), "cases")
