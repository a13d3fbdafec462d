"""Test-only signers, one module per vendor, each written from the vendor's docs and
independently of the adapter: a wrong verifier cannot agree with a wrong signer."""
