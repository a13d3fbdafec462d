"""Verifa (withverifa.com): REST `/api/v1` sessions with a separate result resource, signed
`session.*` webhooks (docs/vendors/verifa.md). The adapter lives in `adapter.py`; the sandbox
emulator in `sandbox*.py`."""
