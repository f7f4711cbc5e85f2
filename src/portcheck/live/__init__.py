"""The live query on a machine: walk the platform's plan through an Executor (this machine, sudo, or an
ssh host from portcheck.fleet), run each native tool with the runner (argv lists, no shell, bounded
time and output), parse what it prints, and add what only this machine knows (/proc, user names,
hints). The kill engine lives here too: ending a process is a live action judged by the same query."""
