"""What the tests share: listeners, fake tools, the sshd lab, the fake sudo, benchmark inputs."""
