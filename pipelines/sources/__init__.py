"""Source readers: find input files, recognise their format by content, land them as Parquet."""
