"""The record's building blocks: addresses, decoding, port specs."""
