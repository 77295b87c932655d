"""The standalone command: the original research code's command line (``python -m synctweedies --app ...``), its
applications on a diffusers model, and batches of runs (``python -m synctweedies batch``), locally or on Ray."""
