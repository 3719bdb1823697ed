"""alscare — care companion and clinic monitor for ALS (motor neurone disease)."""

__version__ = "0.1.0"
