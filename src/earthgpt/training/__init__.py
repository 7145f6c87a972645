"""Training: what each stage trains, the loop, checkpoints, distributed launch."""
