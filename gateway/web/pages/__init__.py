"""Browser pages served by the gateway: `/console` (sessions, live) and `/insights` (stats)."""

from gateway.web.pages.router import pages_router

__all__ = ["pages_router"]
