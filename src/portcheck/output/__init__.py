"""Everything portcheck writes: rows as a table, JSON, NDJSON or CSV on stdout (render), and messages
to a person on stderr (report). It needs only core, so every layer above may present what it found
without the renderers knowing where the rows came from."""
