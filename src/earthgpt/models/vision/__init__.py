"""Vision encoders behind one interface: the multi-layer ViT branch, the multi-scale CNN branch, the hybrid."""
