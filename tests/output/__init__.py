"""Rendering: tables, JSON, CSV, byte for byte."""
