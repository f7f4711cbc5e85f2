"""--host for real, against the sshd lab (helpers/sshd.py), and the fleet's parts."""
