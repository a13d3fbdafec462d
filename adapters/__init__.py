"""Vendor adapters: everything vendor-specific lives in one folder per vendor."""
