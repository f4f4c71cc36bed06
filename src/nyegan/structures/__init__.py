"""Builders: parameters in, (Structure, metadata dict) out. Lengths in Å, angles in degrees."""
