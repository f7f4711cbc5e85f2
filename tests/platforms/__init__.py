"""The plans as data: exact argv per OS, and the OS choice."""
