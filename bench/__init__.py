"""Benchmarks: the gateway against a baseline measured in the same run on the same machine.

`python -m bench` (or `kyc-gateway bench`) runs them all; each prints a table and writes
`bench/results/<name>.json`. See README, "Performance".
"""
