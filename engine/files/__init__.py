"""Files: scenario files, presets, strict JSON fields, atomic writes, race exports."""
