"""Output folders written all or nothing, and written plans read back."""
