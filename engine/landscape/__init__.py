"""The landscape: surfaces, custom expressions, the simulation, races, maps and measures."""
