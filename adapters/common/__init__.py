"""Vendor-agnostic helpers shared by every adapter (HTTP with retries, scrubbing)."""

from adapters.common.http import VendorHttp
from adapters.common.scrub import Scrubber, scrub

__all__ = ["Scrubber", "VendorHttp", "scrub"]
