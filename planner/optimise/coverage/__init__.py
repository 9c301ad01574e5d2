"""Covering models: maximal covering, set cover, p-center and the phased roll-out."""
