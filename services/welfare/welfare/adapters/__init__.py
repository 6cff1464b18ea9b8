"""File formats welfare writes for people: the papers an office prints, signs and files."""
