"""The live query for real (real sockets, processes, sudo) and with fake tools for the other OSes."""
