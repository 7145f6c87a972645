"""EarthGPT-X pixel perception: the ``<seg>`` hidden state -> a SAM mask decoder -> one mask per ``<seg>``."""
