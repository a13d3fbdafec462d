"""The kit every vendor emulator (`adapters/<vendor>/sandbox/`) is built from: the handle the
gateway mounts, the JSON state store, the one `SandboxError`, the control endpoint's
`SimulateAction` vocabulary, ordered signed webhook delivery and the hosted page's layout.

Vendor-neutral: nothing here knows a vendor's routes, statuses or signing.
"""
