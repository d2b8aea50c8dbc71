"""Benchmarks (`make bench`): ratios measured in one run, since these machines are shared and noisy."""
