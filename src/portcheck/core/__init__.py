"""The bottom layer: the record every other layer passes around (model, states, addresses, port specs),
the errors that carry exit codes, text decoding and escaping, the row filter, and the notes a parse
collects. It imports nothing else from portcheck, so parsers, the live query, the fleet and the
renderers can all build on it without knowing about each other."""
