"""Acme, a vendor that exists only here: proof that a vendor is one folder plus one registry
line. Its adapter declares a status table and implements three calls; `vendor.py` plays the
vendor's API over an httpx transport. tests/adapters/test_fake_vendor.py registers it and runs
the whole adapter conformance suite on it."""
