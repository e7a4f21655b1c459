"""Placeholder until the gitstore branch lands."""
