"""The registry of places and people: street down to room, grids, residents and the register."""
