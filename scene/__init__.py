"""Blender-side building blocks shared by the operator and the headless command: where the picture
comes from, how the worker's mesh becomes a Blender object and material, and how objects are exported.
Nothing here registers classes; `operators/` and `panels/` stay thin by calling into these modules."""
