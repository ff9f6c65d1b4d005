"""The cryptographic primitives of BAC and its secure messaging (ICAO Doc 9303 part 11, §4.3 and §9.7-9.8).

* key derivation: Keydata = SHA-1(Kseed || counter) (counter 1 = encryption, 2 = MAC), first 16 bytes = the two
  DES keys Ka||Kb of two-key 3DES (parity bits adjusted);
* encryption: two-key 3DES in CBC mode with a zero IV;
* MAC: ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC", single-DES CBC with Ka, final block D_Kb then E_Ka)
  over data padded with padding method 2 (0x80 then zeros to a multiple of 8).
"""
from __future__ import annotations

import hashlib

try:  # cryptography >= 43 keeps 3DES under "decrepit"
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # pragma: no cover - older cryptography
    from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

ZERO_IV = bytes(8)
ENC_COUNTER = 1
MAC_COUNTER = 2


def pad(data: bytes, block: int = 8) -> bytes:
    """ISO/IEC 9797-1 padding method 2."""
    data = data + b"\x80"
    return data + bytes((-len(data)) % block)


def unpad(data: bytes) -> bytes:
    i = data.rfind(b"\x80")
    if i < 0 or any(data[i + 1:]):
        raise ValueError("bad padding")
    return data[:i]


def adjust_parity(key: bytes) -> bytes:
    out = bytearray()
    for b in key:
        b &= 0xFE
        out.append(b | (bin(b).count("1") + 1) % 2)
    return bytes(out)


def kdf(seed: bytes, counter: int) -> bytes:
    """16-byte two-key 3DES key from a key seed (9303-11 §9.7.1.1, 3DES case)."""
    return adjust_parity(hashlib.sha1(seed + counter.to_bytes(4, "big")).digest()[:16])


def _des3(key16: bytes) -> TripleDES:
    return TripleDES(key16 + key16[:8] if len(key16) == 16 else key16)


def des3_encrypt(key: bytes, data: bytes, iv: bytes = ZERO_IV) -> bytes:
    enc = Cipher(_des3(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def des3_decrypt(key: bytes, data: bytes, iv: bytes = ZERO_IV) -> bytes:
    dec = Cipher(_des3(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def _des_ecb(key8: bytes, block: bytes, encrypt: bool) -> bytes:
    c = Cipher(TripleDES(key8 * 3), modes.ECB())
    op = c.encryptor() if encrypt else c.decryptor()
    return op.update(block) + op.finalize()


def retail_mac(key: bytes, data: bytes, *, padded: bool = False) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES, 8-byte MAC. `data` is padded (method 2) unless `padded`."""
    if not padded:
        data = pad(data)
    ka, kb = key[:8], key[8:16]
    # single-DES CBC with Ka over every block (3DES with K1=K2=K3 is single DES)
    enc = Cipher(TripleDES(ka * 3), modes.CBC(ZERO_IV)).encryptor()
    h = (enc.update(data) + enc.finalize())[-8:]
    return _des_ecb(ka, _des_ecb(kb, h, False), True)


def mrz_check_digit(field: str) -> str:
    """ICAO 9303 part 3 §4.9 check digit (weights 7, 3, 1; A=10 ... Z=35; '<' = 0)."""
    total = 0
    for i, ch in enumerate(field):
        if ch.isdigit():
            v = int(ch)
        elif "A" <= ch <= "Z":
            v = ord(ch) - 55
        elif ch == "<":
            v = 0
        else:
            raise ValueError("character not allowed in an MRZ field")
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def bac_key_seed(document_number: str, birth_yymmdd: str, expiry_yymmdd: str) -> bytes:
    """Kseed = first 16 bytes of SHA-1(MRZ_information) (9303-11 §4.3.2, Appendix D.2)."""
    doc = document_number.upper().replace(" ", "<")
    if len(doc) < 9:
        doc = doc + "<" * (9 - len(doc))
    info = (
        doc + mrz_check_digit(doc)
        + birth_yymmdd + mrz_check_digit(birth_yymmdd)
        + expiry_yymmdd + mrz_check_digit(expiry_yymmdd)
    )
    return hashlib.sha1(info.encode("ascii")).digest()[:16]
