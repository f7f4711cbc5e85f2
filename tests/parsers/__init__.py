"""Every format: recorded fixtures, the shared corpus, pastes, fuzzing, the port pre-filter, hostile lines."""
