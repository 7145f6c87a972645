"""Records -> conversations with the paper's instruction templates."""
