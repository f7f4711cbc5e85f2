"""Many machines over the user's own OpenSSH: one multiplexed connection per host (ssh), prompts relayed
to a person at a terminal (sshauth), what the remote is and how argv becomes its command line (remote),
and the fleet that runs a job (the live query, info's probes, kill's survey and signals) on every host
at once (fleet, kill)."""
