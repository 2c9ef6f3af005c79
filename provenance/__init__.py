"""provenance: audit fine-tuning data, check model licenses, gate training."""

__version__ = "0.1.0"
