"""Shipped data files (read through kiosk.resources). The entries here are symbolic links to the repository's
top-level config/, assets/, systemd/ and docs/ folders; a wheel build copies their contents in."""
