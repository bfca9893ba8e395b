"""Where each data set's examples come from, apart from how a DataModule batches them.

A source either reads a pinned wheel (`extract` writes its cache folder; readers load it)
or generates the data by a published recipe (`generate`, seeded, bit-for-bit the same for
the same seed). Nothing here knows about splits, batches or Lightning.
"""
