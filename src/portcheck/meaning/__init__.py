"""`portcheck info`: what a port number means (IANA range, registered services, well-known uses) and
what a machine does with it (its ephemeral, reserved and excluded ranges, through the platform's probes;
whether the port is in use, through the live query), with both of its presentations: text and JSON."""
