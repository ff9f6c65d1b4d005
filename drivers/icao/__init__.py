"""ICAO Doc 9303 eMRTD building blocks for the chip ID card: TLV, BAC + 3DES secure messaging, LDS parsing,
passive authentication. Pure Python on `cryptography` and `asn1crypto`; no PC/SC here (see drivers/pcsc_reader.py).
"""
