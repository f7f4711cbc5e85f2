"""portcheck: what is using this port? One normalised table from the tools every OS already has."""

__version__ = "0.1.0"
