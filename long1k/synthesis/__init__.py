"""The Long1K synthesis: stitched OpenThoughts pairs plus length-filtered s1.1 rows."""
