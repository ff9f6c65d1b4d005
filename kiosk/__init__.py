"""DVC Kiosk: the domain and services of the self-service kiosk (no Kivy here)."""
__version__ = "0.1.0"
