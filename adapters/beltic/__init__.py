"""Beltic (Identity API sessions): adapter and sandbox emulator."""
