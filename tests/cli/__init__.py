"""The commands end to end: `python -m portcheck` in a subprocess, as a user runs it."""
