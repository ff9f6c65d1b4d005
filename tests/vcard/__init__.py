"""A virtual CCCD chip of our own for tests: personalisation (DG1/DG2/DG13/EF.COM/EF.SOD with a test PKI),
the card-side APDU responder (BAC + 3DES secure messaging), and a client for vsmartcard's vpcd socket so the
card appears in the REAL pcscd as "Virtual PCD 00 00"."""
from tests.vcard.card import VirtualCccd
from tests.vcard.personalise import CardProfile, TestPki, build_card_files, default_profile
from tests.vcard.vpcd import VpcdCard

__all__ = ["CardProfile", "TestPki", "VirtualCccd", "VpcdCard", "build_card_files", "default_profile"]
