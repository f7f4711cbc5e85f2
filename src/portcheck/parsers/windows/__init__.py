"""The Windows formats: `netstat` (-ano, -anob, localised), `tasklist` (PID -> image name) and
PowerShell's Get-NetTCPConnection / Get-NetUDPEndpoint, with what they share in common.py."""
